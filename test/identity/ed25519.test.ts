import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ChainSigner, ed25519Thumbprint, verifyEvents } from '../../src/audit/index.js';
import { signatureCheck } from '../../src/identity/algorithms.js';
import { CHECK_PLACEMENTS, setSignatureCheckPlacement, signatureCheckPlacement } from '../../src/identity/check-placement.js';
import { ed25519, nodeEd25519, selectEd25519, type Ed25519 } from '../../src/identity/ed25519.js';

// RFC 8032 §7.1, tests 1-3: secret seed, message, signature (hex).
const VECTORS = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '', 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '72', '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'af82', '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
] as const;

const seedKey = (seed: string): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed, 'hex')]), format: 'der', type: 'pkcs8' });

const forcedFallback = selectEd25519(() => {
  throw new Error('Cannot find module sodium-native');
});
const BACKENDS: readonly (readonly [string, Ed25519])[] = [
  ['the default (libsodium here)', ed25519()],
  ['node:crypto', nodeEd25519],
  ['the fallback taken when the native module cannot load', forcedFallback],
];

describe('Ed25519 backends', () => {
  it('libsodium loads on this platform (its prebuilt binary ships in the package)', () => {
    expect(ed25519().backend).toBe('libsodium');
  });

  it('falls back to node:crypto when sodium-native cannot load or fails its known-answer test, and says why', () => {
    expect(forcedFallback).toMatchObject({ backend: 'node:crypto', fallbackReason: 'Cannot find module sodium-native' });
    const broken = selectEd25519(() => ({ crypto_sign_seed_keypair: () => undefined, crypto_sign_detached: () => undefined, crypto_sign_verify_detached: () => true, sodium_malloc: (n: number) => Buffer.alloc(n), sodium_memzero: () => undefined }));
    expect(broken.backend).toBe('node:crypto');
    expect(broken.fallbackReason).toMatch(/RFC 8032/);
  });

  describe.each(BACKENDS)('%s', (_name, backend) => {
    it.each(VECTORS)('RFC 8032 vector %#: signs to the published signature and verifies it', (seed, message, signature) => {
      const key = seedKey(seed);
      const m = Buffer.from(message, 'hex');
      expect(backend.signer(key)(m).toString('hex')).toBe(signature);
      const verify = backend.verifier(createPublicKey(key));
      expect(verify(m, Buffer.from(signature, 'hex'))).toBe(true);
      const flipped = Buffer.from(signature, 'hex');
      flipped[5]! ^= 1;
      expect(verify(m, flipped)).toBe(false);
      expect(verify(Buffer.concat([m, Buffer.from([0])]), Buffer.from(signature, 'hex'))).toBe(false);
    });

    it('a signature of the wrong length, or by another key, is false, never a throw', () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const sig = backend.signer(privateKey)(Buffer.from('m'));
      const verify = backend.verifier(publicKey);
      expect(verify(Buffer.from('m'), sig.subarray(0, 63))).toBe(false);
      expect(verify(Buffer.from('m'), Buffer.concat([sig, Buffer.from([0])]))).toBe(false);
      expect(verify(Buffer.from('m'), Buffer.alloc(0))).toBe(false);
      expect(backend.verifier(generateKeyPairSync('ed25519').publicKey)(Buffer.from('m'), sig)).toBe(false);
    });

    it('off the event loop (libuv pool) it answers as in line: vectors, tampering, wrong lengths, another key', async () => {
      for (const [seed, message, signature] of VECTORS) {
        const pub = createPublicKey(seedKey(seed));
        const m = Buffer.from(message, 'hex');
        const good = Buffer.from(signature, 'hex');
        const flipped = Buffer.from(good);
        flipped[40]! ^= 0x80;
        const pooled = backend.pooledVerifier(pub);
        const inline = backend.verifier(pub);
        for (const [msg, sig] of [[m, good], [m, flipped], [Buffer.concat([m, Buffer.from('x')]), good], [m, good.subarray(0, 63)], [m, Buffer.alloc(0)], [m, Buffer.concat([good, Buffer.from([0])])]] as const) {
          expect(await pooled(msg, sig)).toBe(inline(msg, sig));
        }
      }
      const { privateKey } = generateKeyPairSync('ed25519');
      const sig = backend.signer(privateKey)(Buffer.from('m'));
      expect(await backend.pooledVerifier(generateKeyPairSync('ed25519').publicKey)(Buffer.from('m'), sig)).toBe(false);
      expect(() => backend.pooledVerifier(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toThrow(/Ed25519/);
    });

    it('refuses a key that is not Ed25519 when it is bound, not per call', () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      expect(() => backend.signer(privateKey)).toThrow(/Ed25519/);
      expect(() => backend.verifier(publicKey)).toThrow(/Ed25519/);
    });

    it.each(CHECK_PLACEMENTS)('an agent request signature (RFC 9421 ed25519) verifies through it (%s), and a tampered one does not', async (where) => {
      const before = signatureCheckPlacement();
      setSignatureCheckPlacement(where);
      try {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        const check = signatureCheck(publicKey, 'ed25519', backend);
        const base = Buffer.from('"@method": POST\n"@signature-params": ("@method");created=1');
        const sig = nodeEd25519.signer(privateKey)(base);
        expect(await check(base, sig)).toBe(true);
        expect(await check(Buffer.concat([base, Buffer.from(' ')]), sig)).toBe(false);
        expect(await check(base, sig.subarray(1))).toBe(false);
      } finally {
        setSignatureCheckPlacement(before);
      }
    });

    it('an audit chain signed through it verifies through the others', () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const events = new ChainSigner(privateKey, 'gw', undefined, { ed25519: backend }).draft([{ decision_id: 'a' } as never, { decision_id: 'b' } as never]);
      for (const [, other] of BACKENDS) {
        expect(other.verifier(publicKey)(Buffer.from(events[1]!.chain.hash, 'hex'), Buffer.from(events[1]!.chain.sig!, 'base64url'))).toBe(true);
      }
      expect(verifyEvents(events, new Map([[ed25519Thumbprint(publicKey), publicKey]]))).toMatchObject({ ok: true });
    });
  });

  it('a small-order key verifies nothing, in line or off the event loop, whichever backend', async () => {
    // [k]A is the identity (or of order 2) for a small-order A, so R = [S]B satisfies the cofactorless equation for
    // any message whenever [k]A is the identity: a forgery no private key is needed for. Every path refuses it (the
    // libsodium backend's pooled path checks the key itself when bound, whatever the OpenSSL build does).
    const sodium = createRequire(import.meta.url)('sodium-native') as { crypto_scalarmult_ed25519_base_noclamp(q: Buffer, n: Buffer): void };
    const s = Buffer.alloc(32);
    s[0] = 7;
    const r = Buffer.alloc(32);
    sodium.crypto_scalarmult_ed25519_base_noclamp(r, s);
    const forged = Buffer.concat([r, s]);
    const p = 2n ** 255n - 19n;
    const encode = (y: bigint) => Buffer.from(Array.from({ length: 32 }, (_, i) => Number((y >> BigInt(8 * i)) & 255n)));
    for (const y of [1n, p - 1n, 0n]) {
      const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: encode(y).toString('base64url') }, format: 'jwk' });
      for (const message of [Buffer.from('transfer everything'), Buffer.from('m')]) {
        for (const [, backend] of BACKENDS) {
          expect(backend.verifier(pub)(message, forged)).toBe(false);
          expect(await backend.pooledVerifier(pub)(message, forged)).toBe(false);
        }
      }
    }
  });
});
