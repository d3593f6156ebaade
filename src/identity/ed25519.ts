import { createRequire } from 'node:module';
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 signing and verification with a key bound once. libsodium (`sodium-native`) when its native module
 * loads, `node:crypto` (OpenSSL) otherwise: measured on the 2 vCPU bench machine (Node 26,
 * `node dist/bench/crypto.js`), libsodium verifies in 76-78 µs of CPU against 124-162 µs and signs in 23 µs
 * against 47-48 µs. Every allowed call pays one verification (the agent's request) and a share of the audit
 * checkpoint signatures.
 */
export interface Ed25519 {
  readonly backend: 'libsodium' | 'node:crypto';
  /** A signer for one private key: the key is unpacked once, not per signature. */
  signer(privateKey: KeyObject): (message: Uint8Array) => Buffer;
  /** A verifier for one public key; a signature of the wrong length or shape is `false`, never a throw. */
  verifier(publicKey: KeyObject): (message: Uint8Array, signature: Uint8Array) => boolean;
  /**
   * The same check off the event loop: node:crypto's callback form, which runs OpenSSL on libuv's thread pool and
   * costs the event loop about 13 µs instead of the whole verification (see check-placement.ts). It accepts what
   * `verifier` accepts (test/identity/ed25519.test.ts compares them).
   */
  pooledVerifier(publicKey: KeyObject): (message: Uint8Array, signature: Uint8Array) => Promise<boolean>;
}

/** node:crypto's verification on libuv's thread pool: false for a signature of the wrong length or any error. */
function pooledNodeVerifier(publicKey: KeyObject): (message: Uint8Array, signature: Uint8Array) => Promise<boolean> {
  return (message, signature) =>
    new Promise((resolve) => {
      if (signature.byteLength !== SIGNATURE_BYTES) return resolve(false);
      try {
        nodeVerify(null, message, publicKey, signature, (error, ok) => resolve(error === null && ok === true));
      } catch {
        resolve(false);
      }
    });
}

const SIGNATURE_BYTES = 64;

/** The subset of sodium-native used here (the package ships no types). */
interface Sodium {
  crypto_sign_seed_keypair(pk: Buffer, sk: Buffer, seed: Buffer): void;
  crypto_sign_detached(sig: Buffer, message: Uint8Array, sk: Buffer): void;
  crypto_sign_verify_detached(sig: Uint8Array, message: Uint8Array, pk: Buffer): boolean;
  crypto_core_ed25519_is_valid_point(p: Buffer): boolean;
  sodium_malloc(size: number): Buffer;
  sodium_memzero(buf: Buffer): void;
}

function checkEd25519(key: KeyObject, kind: 'private' | 'public'): void {
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 ${kind} key, got ${key.asymmetricKeyType ?? key.type}`);
}

function rawKey(key: KeyObject, member: 'x' | 'd'): Buffer {
  const jwk = key.export({ format: 'jwk' }) as { x?: string; d?: string };
  return Buffer.from(jwk[member] ?? '', 'base64url');
}

/** An Ed25519 public key's 32 raw bytes (RFC 8032's encoding). */
export function rawPublicKey(key: KeyObject): Buffer {
  checkEd25519(key, 'public');
  return rawKey(key, 'x');
}

export const nodeEd25519: Ed25519 = {
  backend: 'node:crypto',
  signer(privateKey) {
    checkEd25519(privateKey, 'private');
    return (message) => nodeSign(null, message, privateKey);
  },
  verifier(publicKey) {
    checkEd25519(publicKey, 'public');
    return (message, signature) => {
      if (signature.byteLength !== SIGNATURE_BYTES) return false;
      try {
        return nodeVerify(null, message, publicKey, signature);
      } catch {
        return false;
      }
    };
  },
  pooledVerifier(publicKey) {
    checkEd25519(publicKey, 'public');
    return pooledNodeVerifier(publicKey);
  },
};

function sodiumEd25519(sodium: Sodium): Ed25519 {
  return {
    backend: 'libsodium',
    signer(privateKey) {
      checkEd25519(privateKey, 'private');
      const seed = rawKey(privateKey, 'd');
      // Guarded, locked memory for the expanded secret key; the seed copy is wiped.
      const sk = sodium.sodium_malloc(64);
      sodium.crypto_sign_seed_keypair(Buffer.alloc(32), sk, seed);
      sodium.sodium_memzero(seed);
      return (message) => {
        const sig = Buffer.allocUnsafe(SIGNATURE_BYTES);
        sodium.crypto_sign_detached(sig, message, sk);
        return sig;
      };
    },
    verifier(publicKey) {
      checkEd25519(publicKey, 'public');
      const pk = rawKey(publicKey, 'x');
      // libsodium also refuses small-order keys and non-canonical encodings (OpenSSL 3 refuses small-order keys as
      // well): no honest signer produces them, and refusing them keeps a signature from having a second valid form.
      return (message, signature) => signature.byteLength === SIGNATURE_BYTES && sodium.crypto_sign_verify_detached(signature, message, pk);
    },
    pooledVerifier(publicKey) {
      checkEd25519(publicKey, 'public');
      // OpenSSL checks the signature. The key is checked here, once, as libsodium would: a key that is small-order,
      // non-canonical or outside the main subgroup (none comes from honest key generation) verifies nothing, whatever
      // the OpenSSL build accepts (OpenSSL 3 refuses small-order keys too: test/identity/ed25519.test.ts).
      if (!sodium.crypto_core_ed25519_is_valid_point(rawKey(publicKey, 'x'))) return () => Promise.resolve(false);
      return pooledNodeVerifier(publicKey);
    },
  };
}

// RFC 8032 §7.1 TEST 2: a loaded native module must reproduce it before it is trusted with keys.
const SELF_TEST = {
  seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
  message: '72',
  signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
};

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function selfTest(ed: Ed25519): void {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(SELF_TEST.seed, 'hex')]), format: 'der', type: 'pkcs8' });
  const message = Buffer.from(SELF_TEST.message, 'hex');
  const signature = ed.signer(priv)(message);
  if (signature.toString('hex') !== SELF_TEST.signature || !ed.verifier(createPublicKey(priv))(message, signature)) {
    throw new Error('libsodium Ed25519 does not reproduce RFC 8032 test 2');
  }
}

/**
 * The libsodium backend if `load` yields a working sodium-native (it passes RFC 8032 test 2), else node:crypto.
 * `load` is injectable so tests can force the fallback; `reason` says why the fallback was taken.
 */
export function selectEd25519(load: () => unknown = () => createRequire(import.meta.url)('sodium-native')): Ed25519 & { readonly fallbackReason?: string } {
  try {
    const ed = sodiumEd25519(load() as Sodium);
    selfTest(ed);
    return ed;
  } catch (error) {
    return { ...nodeEd25519, fallbackReason: error instanceof Error ? error.message : String(error) };
  }
}

let chosen: (Ed25519 & { readonly fallbackReason?: string }) | undefined;

/** The process's Ed25519 backend, chosen once on first use. */
export function ed25519(): Ed25519 & { readonly fallbackReason?: string } {
  chosen ??= selectEd25519();
  return chosen;
}
