import { describe, expect, it } from 'vitest';
import { signRequest } from '../../src/agent/index.js';
import { ConfigError } from '../../src/errors.js';
import { createVerifier, IdentityError, type IdentityOptions, type RequestFacts } from '../../src/identity/index.js';
import { facts, generateAgentKey, registryFor, signedFacts, T0 } from './helpers.js';

const key = generateAgentKey();
const stranger = generateAgentKey();
const spec = { method: 'POST', url: 'https://gw.example/tools/email.send', headers: { 'content-type': 'application/json' }, body: '{"to":"a@example.com"}' };

/** One request carrying several signatures, added one after the other as independent signers would. */
function multiSigned(signers: { jwk: typeof key.privateJwk; label: string; tag?: string; tamper?: boolean }[]): RequestFacts {
  const headers: Record<string, string> = { ...spec.headers };
  const inputs: string[] = [];
  const sigs: string[] = [];
  for (const s of signers) {
    const added = signRequest(spec, { privateJwk: s.jwk, label: s.label, now: () => T0, ...(s.tag ? { tag: s.tag } : {}) });
    headers['content-digest'] = added['content-digest']!;
    inputs.push(added['signature-input']);
    sigs.push(s.tamper ? added.signature.replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`) : added.signature);
  }
  return facts({ ...spec, headers: { ...headers, 'signature-input': inputs.join(', '), signature: sigs.join(', ') } });
}

async function verify(f: RequestFacts, options: Partial<IdentityOptions> = {}) {
  const v = await createVerifier({ jwks: registryFor(key), now: () => T0, ...options });
  return v.verify(f);
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(IdentityError);
  return (error as IdentityError).reason;
}

describe('several signatures on one request', () => {
  it("labels 'any': the first label that satisfies the policy counts", async () => {
    const f = multiSigned([{ jwk: stranger.privateJwk, label: 'proxy' }, { jwk: key.privateJwk, label: 'agent' }]);
    expect(await verify(f)).toMatchObject({ label: 'agent', id: 'receipts-bot' });
  });

  it('configured labels: only those count, even when another label would pass', async () => {
    const f = multiSigned([{ jwk: key.privateJwk, label: 'sig1' }, { jwk: stranger.privateJwk, label: 'sig2' }]);
    expect(await reasonOf(verify(f, { labels: ['sig2'] }))).toBe('key_unknown');
    expect(await verify(f, { labels: ['sig1'] })).toMatchObject({ label: 'sig1' });
    expect(await reasonOf(verify(f, { labels: ['sig9'] }))).toBe('signature_missing');
  });

  it('configured label order is preference order', async () => {
    const other = generateAgentKey();
    const f = multiSigned([{ jwk: key.privateJwk, label: 'a' }, { jwk: other.privateJwk, label: 'b' }]);
    const jwks = { keys: [...registryFor(key).keys, { ...other.publicJwk, agent: 'other-bot' }] };
    expect(await verify(f, { jwks, labels: ['b', 'a'] })).toMatchObject({ label: 'b', id: 'other-bot' });
    expect(await verify(f, { jwks, labels: ['a', 'b'] })).toMatchObject({ label: 'a', id: 'receipts-bot' });
  });

  it('when none passes, the first candidate’s reason is reported', async () => {
    const f = multiSigned([{ jwk: key.privateJwk, label: 'sig1', tamper: true }, { jwk: stranger.privateJwk, label: 'sig2' }]);
    expect(await reasonOf(verify(f))).toBe('signature_invalid');
  });

  it('a replay is final: a second valid signature cannot smuggle the request through again', async () => {
    const other = generateAgentKey();
    const jwks = { keys: [...registryFor(key).keys, { ...other.publicJwk, agent: 'other-bot' }] };
    const v = await createVerifier({ jwks, now: () => T0 });
    const f = multiSigned([{ jwk: key.privateJwk, label: 'sig1' }, { jwk: other.privateJwk, label: 'sig2' }]);
    await v.verify(f);
    expect(await reasonOf(v.verify(f))).toBe('replayed');
  });

  it('a label in Signature-Input without a Signature member is malformed', async () => {
    const f = signedFacts(key);
    const broken = { ...f, headers: { ...f.headers, 'signature-input': `${String(f.headers['signature-input'])}, sig2=("@method");created=1` } };
    expect(await verify(broken, { labels: ['sig2'] }).catch((e: IdentityError) => e.reason)).toBe('signature_malformed');
    await expect(verify(broken)).resolves.toMatchObject({ label: 'sig1' });
  });

  it('tag: required where the profile demands one', async () => {
    expect(await reasonOf(verify(signedFacts(key), { tag: 'toolgate' }))).toBe('coverage_insufficient');
    expect(await reasonOf(verify(signedFacts(key, {}, { tag: 'other' }), { tag: 'toolgate' }))).toBe('coverage_insufficient');
    await expect(verify(signedFacts(key, {}, { tag: 'toolgate' }), { tag: 'toolgate' })).resolves.toBeTruthy();
    const f = multiSigned([{ jwk: key.privateJwk, label: 'untagged' }, { jwk: key.privateJwk, label: 'tagged', tag: 'toolgate' }]);
    expect(await verify(f, { tag: 'toolgate' })).toMatchObject({ label: 'tagged' });
  });

  it('requireNonce and requireExpires', async () => {
    expect(await reasonOf(verify(signedFacts(key, {}, { nonce: false }), { requireNonce: true }))).toBe('coverage_insufficient');
    await expect(verify(signedFacts(key), { requireNonce: true, requireExpires: true })).resolves.toBeTruthy();
  });
});

describe('key registry', () => {
  const next = generateAgentKey();
  const rotation = { keys: [{ ...key.publicJwk, agent: 'receipts-bot', exp: T0 / 1000 + 3600 }, { ...next.publicJwk, agent: 'receipts-bot', nbf: T0 / 1000 - 60 }] };

  it('several keys per agent: old and new both verify during a rotation', async () => {
    expect(await verify(signedFacts(key), { jwks: rotation })).toMatchObject({ id: 'receipts-bot', thumbprint: key.thumbprint });
    expect(await verify(signedFacts(next), { jwks: rotation })).toMatchObject({ id: 'receipts-bot', thumbprint: next.thumbprint });
  });

  it('exp passed → key_revoked; nbf ahead → key_unknown', async () => {
    const later = T0 + 3600_000;
    const v = await createVerifier({ jwks: rotation, now: () => later });
    expect(await reasonOf(v.verify(signedFacts(key, {}, { now: () => later })))).toBe('key_revoked');
    const early = { keys: [{ ...next.publicJwk, agent: 'receipts-bot', nbf: T0 / 1000 + 60 }] };
    expect(await reasonOf(verify(signedFacts(next), { jwks: early }))).toBe('key_unknown');
  });

  it('revoked thumbprints → key_revoked (by kid or thumbprint alike)', async () => {
    const jwks = registryFor(key, { kid: 'receipts-2026' });
    expect(await reasonOf(verify(signedFacts(key), { jwks, revokedThumbprints: [key.thumbprint] }))).toBe('key_revoked');
    expect(await reasonOf(verify(signedFacts(key, {}, { keyId: 'receipts-2026' }), { jwks, revokedThumbprints: [key.thumbprint] }))).toBe('key_revoked');
  });

  it('refuses an ambiguous registry: one keyid for two keys', async () => {
    const jwks = { keys: [{ ...key.publicJwk, kid: 'k', agent: 'a' }, { ...next.publicJwk, kid: 'k', agent: 'b' }] };
    await expect(createVerifier({ jwks })).rejects.toThrow(/names two keys/);
    const thumbClash = { keys: [{ ...key.publicJwk, agent: 'a' }, { ...next.publicJwk, kid: key.thumbprint, agent: 'b' }] };
    await expect(createVerifier({ jwks: thumbClash })).rejects.toThrow(ConfigError);
  });

  it('reads JWKS files, and names the file in errors', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'toolgate-jwks-'));
    const good = join(dir, 'agents.jwks.json');
    await writeFile(good, JSON.stringify(registryFor(key)));
    await expect(verify(signedFacts(key), { jwks: undefined, jwksFiles: [good] })).resolves.toMatchObject({ id: 'receipts-bot' });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{nope');
    await expect(createVerifier({ jwksFiles: [bad] })).rejects.toThrow(/bad\.json is not JSON/);
    await expect(createVerifier({ jwksFiles: [join(dir, 'missing.json')] })).rejects.toThrow(/cannot read JWKS file/);
  });
});
