import { describe, expect, it } from 'vitest';
import { createSignedFetch } from '../../src/agent/index.js';
import { ConfigError } from '../../src/errors.js';
import { createVerifier, IdentityError, type IdentityOptions, type RequestFacts } from '../../src/identity/index.js';
import { facts, factsServer, generateAgentKey, registryFor, signedFacts, T0, withHeaders } from './helpers.js';

const key = generateAgentKey();

async function verifier(extra: Partial<IdentityOptions> = {}, now = T0) {
  return createVerifier({ jwks: registryFor(key), now: () => now, ...extra });
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    return (error as IdentityError).reason;
  }
  throw new Error('expected an IdentityError');
}

describe('createVerifier: RFC 9421 Ed25519 against a local registry', () => {
  it('accepts a request signed by the agent signer and reports who signed it', async () => {
    const v = await verifier();
    const agent = await v.verify(signedFacts(key));
    expect(agent).toMatchObject({ verified: true, scheme: 'rfc9421', id: 'receipts-bot', keyId: key.thumbprint, thumbprint: key.thumbprint, labels: { team: 'finance' }, label: 'sig1' });
    expect(agent.covered).toEqual(['"@method"', '"@authority"', '"@path"', '"@query"', '"content-digest"', '"content-type"']);
  });

  it('accepts the thumbprint as keyid when the registry kid differs', async () => {
    const v = await createVerifier({ jwks: registryFor(key, { kid: 'receipts-2026' }), now: () => T0 });
    expect((await v.verify(signedFacts(key))).keyId).toBe(key.thumbprint);
    expect((await v.verify(signedFacts(key, {}, { keyId: 'receipts-2026' }))).keyId).toBe('receipts-2026');
  });

  it('accepts a GET without a query (@query is "?") and without a body', async () => {
    const v = await verifier();
    await expect(v.verify(signedFacts(key, { method: 'GET', url: 'https://gw.example/healthz' }))).resolves.toMatchObject({ id: 'receipts-bot' });
  });

  it.each<[string, (f: RequestFacts) => RequestFacts, string]>([
    ['no headers', (f) => withHeaders(f, { 'signature-input': undefined, signature: undefined }), 'signature_missing'],
    ['Signature without input', (f) => withHeaders(f, { 'signature-input': undefined }), 'signature_malformed'],
    ['garbage Signature-Input', (f) => withHeaders(f, { 'signature-input': 'sig1=(((' }), 'signature_malformed'],
    ['changed path', (f) => ({ ...f, target: '/tools/email.delete' }), 'signature_invalid'],
    ['added query', (f) => ({ ...f, target: `${f.target}?all=1` }), 'signature_invalid'],
    ['changed method', (f) => ({ ...f, method: 'PUT' }), 'signature_invalid'],
    ['other host', (f) => ({ ...f, authority: 'evil.example' }), 'signature_invalid'],
    ['tampered body', (f) => ({ ...f, rawBody: Buffer.from('{"to":"evil@example.com"}') }), 'digest_mismatch'],
    ['Content-Digest dropped', (f) => withHeaders(f, { 'content-digest': undefined }), 'signature_invalid'],
  ])('rejects %s', async (_name, change, expected) => {
    const v = await verifier();
    expect(await reason(v.verify(change(signedFacts(key))))).toBe(expected);
  });

  it('requires content-digest coverage when there is a body', async () => {
    const v = await verifier();
    const f = signedFacts(key, {}, { components: ['@method', '@authority', '@path', '@query', 'content-type'] });
    expect(await reason(v.verify(f))).toBe('coverage_insufficient');
  });

  it('requires the default components', async () => {
    const v = await verifier();
    expect(await reason(v.verify(signedFacts(key, {}, { components: ['@method', '@authority', 'content-digest', 'content-type'] })))).toBe('coverage_insufficient');
    // @target-uri carries authority, path and query.
    await expect(v.verify(signedFacts(key, {}, { components: ['@method', '@target-uri', 'content-digest', 'content-type'] }))).resolves.toBeTruthy();
  });

  it('requires created, bounds clock skew and age, honours expires', async () => {
    const f = signedFacts(key, {}, { expiresIn: 60 });
    expect(await reason((await verifier({}, T0 - 31_000)).verify(f))).toBe('signature_not_yet_valid');
    await expect((await verifier({}, T0 - 29_000)).verify(f)).resolves.toBeTruthy();
    expect(await reason((await verifier({}, T0 + 91_000)).verify(f))).toBe('signature_expired');
    const long = signedFacts(key, {}, { expiresIn: 3600 });
    expect(await reason((await verifier({}, T0 + 331_000)).verify(long))).toBe('signature_expired');
    await expect((await verifier({}, T0 + 329_000)).verify(long)).resolves.toBeTruthy();
  });

  it('rejects an unknown key and a request replayed', async () => {
    const other = generateAgentKey();
    const v = await verifier();
    expect(await reason(v.verify(signedFacts(other)))).toBe('key_unknown');
    const f = signedFacts(key);
    await v.verify(f);
    expect(await reason(v.verify(f))).toBe('replayed');
  });

  it('refuses bad options with a ConfigError naming the fix', async () => {
    await expect(createVerifier({})).rejects.toThrow(ConfigError);
    await expect(createVerifier({ jwks: registryFor(key), clockSkew: 5 } as never)).rejects.toThrow(/did you mean "clockSkewMs"/);
    await expect(createVerifier({ jwks: { keys: [{ ...key.privateJwk, agent: 'x' }] } })).rejects.toThrow(/private key material/);
    await expect(createVerifier({ jwks: { keys: [key.publicJwk] } })).rejects.toThrow(/"agent"/);
  });

  it('verifies what createSignedFetch sends over real HTTP', async () => {
    const v = await createVerifier({ jwks: registryFor(key) });
    const server = await factsServer(async (f) => {
      try {
        return { status: 200, body: await v.verify(f) };
      } catch (error) {
        return { status: 401, body: { reason: (error as IdentityError).reason } };
      }
    });
    try {
      const signedFetch = createSignedFetch({ privateJwk: key.privateJwk });
      const ok = await signedFetch(`${server.url}/tools/email.send?draft=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":"a@example.com"}' });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ id: 'receipts-bot' });
      const get = await signedFetch(`${server.url}/tools`);
      expect(get.status).toBe(200);
      const unsigned = await fetch(`${server.url}/tools`);
      expect(await unsigned.json()).toEqual({ reason: 'signature_missing' });
    } finally {
      await server.close();
    }
  });

  it('turns a request without a Host into an IdentityError, not a crash', async () => {
    const v = await verifier();
    const f = facts({ method: 'POST', url: 'https://gw.example/x', headers: { 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' } });
    expect(await reason(v.verify({ ...f, headers: { ...f.headers, host: undefined } }))).toMatch(/coverage_insufficient|signature_/);
  });
});
