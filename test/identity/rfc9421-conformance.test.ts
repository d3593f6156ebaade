import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateAgentKey, signRequest } from '../../src/agent/index.js';
import { ALGORITHMS, createVerifier, IdentityError, type RequestFacts } from '../../src/identity/index.js';
import { componentValue } from '../../src/identity/components.js';
import { KeyRegistry } from '../../src/identity/registry.js';
import { candidateBase, signatureBase, signatureBaseBytes } from '../../src/identity/signature-base.js';
import { isMalformed, parseSignatureFields, type SignatureCandidate } from '../../src/identity/signature-fields.js';
import { jwkThumbprint, type Jwk } from '../../src/identity/jwk.js';
import { ConfigError } from '../../src/errors.js';
import { facts, registryFor } from './helpers.js';

const fixtures = new URL('../fixtures/identity/', import.meta.url);
const keys = JSON.parse(readFileSync(new URL('rfc9421-keys.json', fixtures), 'utf8')).keys as Record<string, { public?: Jwk; private?: Jwk; secret?: Jwk }>;
const vectors = JSON.parse(readFileSync(new URL('rfc9421-vectors.json', fixtures), 'utf8'));
const components = JSON.parse(readFileSync(new URL('rfc9421-components.json', fixtures), 'utf8'));
const CREATED_MS = 1618884473 * 1000;
const LIMITS = { maxHeaderBytes: 8192, maxSignatures: 8, maxComponents: 64 };

const publicKeys = Object.values(keys).flatMap((k) => (k.public ? [{ ...k.public, agent: 'rfc-example' }] : []));
const secrets = Object.values(keys).flatMap((k) => (k.secret ? [{ ...k.secret, agent: 'rfc-example' }] : []));
const registry = new KeyRegistry([{ jwks: { keys: publicKeys }, source: 'rfc' }, { jwks: { keys: secrets }, source: 'secrets', sharedSecrets: true }], { revoked: [], production: false });
function parseOne(input: string, signature: string): SignatureCandidate {
  const [candidate] = parseSignatureFields(input, signature, LIMITS, 'rfc9421');
  if (candidate === undefined || isMalformed(candidate)) throw candidate?.error ?? new Error('no candidate');
  return candidate;
}
const testRequest: RequestFacts = { ...vectors.request, rawBody: Buffer.from(vectors.request.body) };

describe('RFC 9421 Appendix B conformance', () => {
  it('the Ed25519 test key has the published thumbprint', () => {
    expect(jwkThumbprint(keys['test-key-ed25519']!.public!)).toBe('poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U');
  });

  describe.each(vectors.requestVectors as { name: string; keyid: string; signatureInput: string; signature: string; base: string }[])('$name', (vector) => {
    const candidate = parseOne(vector.signatureInput, vector.signature);

    it('rebuilds the published signature base', () => {
      expect(signatureBase(testRequest, candidate.components.map((c) => c.id), candidate.signatureParams)).toBe(vector.base);
    });

    it('builds the same base on the verifier\'s fast path (candidateBase)', () => {
      expect(candidateBase(testRequest, candidate.components, candidate.signatureParams)).toBe(vector.base);
    });

    it('verifies the published signature with the key the registry fixes', async () => {
      const found = registry.lookup(vector.keyid, CREATED_MS);
      expect(found.ok).toBe(true);
      if (!found.ok) return;
      expect(await found.key.check(signatureBaseBytes(vector.base), candidate.signature)).toBe(true);
      const tampered = Buffer.from(candidate.signature);
      tampered[10] = (tampered[10] ?? 0) ^ 1;
      expect(await found.key.check(signatureBaseBytes(vector.base), tampered)).toBe(false);
    });
  });

  it('B.2.4 (response, ecdsa-p256-sha256): the published signature verifies with test-key-ecc-p256', async () => {
    const found = registry.lookup('test-key-ecc-p256', CREATED_MS);
    if (!found.ok) throw new Error(found.message);
    expect(found.key.alg).toBe('ecdsa-p256-sha256');
    expect(await found.key.check(signatureBaseBytes(vectors.responseVector.base), Buffer.from(vectors.responseVector.signature, 'base64'))).toBe(true);
  });

  it('B.2.3 passes the full verifier with its default policy (it covers method, target, body digest and type)', async () => {
    const v = await createVerifier({ jwks: { keys: publicKeys }, now: () => CREATED_MS + 1000 });
    const vector = vectors.requestVectors[2];
    const agent = await v.verify({ ...testRequest, headers: { ...testRequest.headers, 'signature-input': vector.signatureInput, signature: vector.signature } });
    expect(agent).toMatchObject({ id: 'rfc-example', keyId: 'test-key-rsa-pss', label: 'sig-b23' });
  });

  it.each([0, 1, 3, 4])('the default policy refuses vector %i, which leaves out what a tool call must bind', async (i) => {
    const v = await createVerifier({ jwks: { keys: publicKeys }, sharedSecrets: secrets, now: () => CREATED_MS });
    const vector = vectors.requestVectors[i];
    await expect(v.verify({ ...testRequest, headers: { ...testRequest.headers, 'signature-input': vector.signatureInput, signature: vector.signature } })).rejects.toMatchObject({ reason: 'coverage_insufficient' });
  });

  it('production mode refuses every published test key', async () => {
    for (const jwk of publicKeys) await expect(createVerifier({ jwks: { keys: [jwk] }, production: true })).rejects.toThrow(ConfigError);
    await expect(createVerifier({ sharedSecrets: secrets, production: true })).rejects.toThrow(/published RFC 9421 test key/);
  });
});

describe('RFC 9421 §2 component values', () => {
  for (const testCase of components.cases as { name: string; request: Omit<RequestFacts, 'rawBody'>; expect: Record<string, string> }[]) {
    it.each(Object.entries(testCase.expect))(`${testCase.name}: %s`, (id, value) => {
      const component = parseOne(`s=(${id})`, 's=::').components[0]!;
      expect(componentValue(testCase.request, component.name, component.params)).toBe(value);
      const params = '("@method");created=1';
      expect(candidateBase(testCase.request, [component], params)).toBe(signatureBase(testCase.request, [component.id], params));
    });
  }
});

describe('algorithms: fixed by the key, never by the request', () => {
  it.each(ALGORITHMS.filter((a) => a !== 'hmac-sha256'))('%s: generated key signs, verifier accepts', async (alg) => {
    const key = generateAgentKey(alg);
    const v = await createVerifier({ jwks: registryFor(key), now: () => 1_750_000_000_000 });
    const spec = { method: 'POST', url: 'https://gw.example/tools/x?y=1', headers: { 'content-type': 'application/json' }, body: '{}' };
    const added = signRequest(spec, { privateJwk: key.privateJwk, includeAlg: true, now: () => 1_750_000_000_000 });
    await expect(v.verify(facts({ ...spec, headers: { ...spec.headers, ...added } }))).resolves.toMatchObject({ id: 'receipts-bot' });
  });

  it.each(['test-key-rsa', 'test-key-ecc-p256', 'test-key-ed25519'])('%s (RFC key) signs with our signer and verifies', async (name) => {
    const k = keys[name]!;
    const v = await createVerifier({ jwks: { keys: [{ ...k.public!, agent: 'rfc' }] }, now: () => 1_750_000_000_000 });
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: {} };
    const added = signRequest(spec, { privateJwk: k.private!, now: () => 1_750_000_000_000 });
    await expect(v.verify(facts({ ...spec, headers: added }))).resolves.toMatchObject({ keyId: name });
  });

  it('hmac-sha256 works for a configured shared secret', async () => {
    const secret = keys['test-shared-secret']!.secret!;
    const v = await createVerifier({ sharedSecrets: [{ ...secret, agent: 'hmac-bot' }], now: () => 1_750_000_000_000 });
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: {} };
    const added = signRequest(spec, { privateJwk: secret, now: () => 1_750_000_000_000 });
    await expect(v.verify(facts({ ...spec, headers: added }))).resolves.toMatchObject({ id: 'hmac-bot', keyId: 'test-shared-secret' });
  });

  it('an oct key in a public JWKS is refused: hmac needs explicit configuration', async () => {
    await expect(createVerifier({ jwks: { keys: [{ ...keys['test-shared-secret']!.secret!, agent: 'x' }] } })).rejects.toThrow(/sharedSecrets/);
  });

  it('alg parameter that does not match the key → alg_mismatch', async () => {
    const key = generateAgentKey();
    const v = await createVerifier({ jwks: registryFor(key), now: () => 1_750_000_000_000 });
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: {} };
    const added = signRequest(spec, { privateJwk: key.privateJwk, includeAlg: true, now: () => 1_750_000_000_000 });
    const forged = { ...added, 'signature-input': added['signature-input'].replace('alg="ed25519"', 'alg="hmac-sha256"') };
    await expect(v.verify(facts({ ...spec, headers: forged }))).rejects.toMatchObject({ reason: 'alg_mismatch' });
  });

  it('an RSA key registered for PKCS#1 v1.5 does not accept a PSS signature', async () => {
    const pss = generateAgentKey('rsa-pss-sha512');
    const v = await createVerifier({ jwks: { keys: [{ ...pss.publicJwk, alg: 'RS256', agent: 'x' }] }, now: () => 1_750_000_000_000 });
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: {} };
    const added = signRequest(spec, { privateJwk: pss.privateJwk, now: () => 1_750_000_000_000 });
    const error = await v.verify(facts({ ...spec, headers: added })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityError);
    expect((error as IdentityError).reason).toBe('signature_invalid');
  });

  it('RSA without alg in the registry is a ConfigError that names the fix', async () => {
    const { alg: _alg, ...noAlg } = keys['test-key-rsa']!.public!;
    await expect(createVerifier({ jwks: { keys: [{ ...noAlg, agent: 'x' }] } })).rejects.toThrow(/rsa-pss-sha512/);
  });
});
