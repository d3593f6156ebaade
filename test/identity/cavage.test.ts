import { createHash, createPrivateKey, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { generateAgentKey } from '../../src/agent/index.js';
import { createVerifier, IdentityError, type IdentityOptions, type RequestFacts } from '../../src/identity/index.js';
import { verifyingServer, registryFor, T0 } from './helpers.js';

const key = generateAgentKey();
const ecKey = generateAgentKey('ecdsa-p256-sha256');
const DATE = new Date(T0).toUTCString();
const BODY = '{"to":"a@example.com"}';
const DIGEST = `SHA-256=${createHash('sha256').update(BODY).digest('base64')}`;

interface CavageSpec {
  keyId?: string;
  algorithm?: string;
  headers?: string[];
  date?: string;
  body?: string;
  digest?: string | null;
  target?: string;
  signWith?: typeof key;
  hashFor?: string | null;
}

/** A draft-cavage request, signed the way the draft describes (independent of http-signature's signer). */
function cavageFacts(spec: CavageSpec = {}): RequestFacts {
  const signer = spec.signWith ?? key;
  const target = spec.target ?? '/tools/email.send';
  const body = spec.body ?? BODY;
  const headers: Record<string, string> = { host: 'gw.example', date: spec.date ?? DATE, 'content-type': 'application/json' };
  if (spec.digest !== null) headers.digest = spec.digest ?? DIGEST;
  const covered = spec.headers ?? ['(request-target)', 'host', 'date', 'digest'];
  const signingString = covered.map((h) => (h === '(request-target)' ? `(request-target): post ${target}` : `${h}: ${headers[h] ?? ''}`)).join('\n');
  const privateKey = createPrivateKey({ key: signer.privateJwk as never, format: 'jwk' });
  const hash = spec.hashFor === undefined ? (signer === ecKey ? 'sha256' : null) : spec.hashFor;
  const signature = sign(hash, Buffer.from(signingString), privateKey).toString('base64');
  const algorithm = spec.algorithm ?? (signer === ecKey ? 'ecdsa-sha256' : 'ed25519-sha512');
  headers.authorization = `Signature keyId="${spec.keyId ?? signer.thumbprint}",algorithm="${algorithm}",headers="${covered.join(' ')}",signature="${signature}"`;
  return { method: 'POST', target, scheme: 'https', authority: 'gw.example', headers, rawBody: Buffer.from(body) };
}

async function verifier(extra: Partial<IdentityOptions> = {}, now = T0) {
  return createVerifier({ jwks: { keys: [...registryFor(key).keys, ...registryFor(ecKey).keys] }, cavage: {}, now: () => now, ...extra });
}

async function reasonOf(p: Promise<unknown>): Promise<string> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(IdentityError);
  return (error as IdentityError).reason;
}

describe('draft-cavage (legacy) through http-signature', () => {
  it('accepts a strict ed25519 and ecdsa signature over (request-target), host, date, digest', async () => {
    const v = await verifier();
    expect(await v.verify(cavageFacts())).toMatchObject({ scheme: 'cavage', id: 'receipts-bot', keyId: key.thumbprint, covered: ['(request-target)', 'host', 'date', 'digest'] });
    expect(await v.verify(cavageFacts({ signWith: ecKey }))).toMatchObject({ scheme: 'cavage', thumbprint: ecKey.thumbprint });
  });

  it('is off unless configured', async () => {
    const v = await createVerifier({ jwks: registryFor(key), now: () => T0 });
    expect(await reasonOf(v.verify(cavageFacts()))).toBe('signature_missing');
  });

  it.each<[string, CavageSpec, string]>([
    ['date not signed', { headers: ['(request-target)', 'host', 'digest'] }, 'coverage_insufficient'],
    ['(request-target) not signed', { headers: ['host', 'date', 'digest'] }, 'coverage_insufficient'],
    ['digest not signed with a body', { headers: ['(request-target)', 'host', 'date'] }, 'coverage_insufficient'],
    ['a body that does not match Digest', { body: '{"to":"evil@example.com"}' }, 'digest_mismatch'],
    ['only an md5 Digest', { digest: 'MD5=Zm9v' }, 'digest_missing'],
    ['a stale Date', { date: new Date(T0 - 400_000).toUTCString() }, 'signature_expired'],
    ['a future Date', { date: new Date(T0 + 60_000).toUTCString() }, 'signature_not_yet_valid'],
    ['an unknown key', { keyId: 'nobody' }, 'key_unknown'],
    ['an algorithm outside the allowlist', { algorithm: 'rsa-sha1' }, 'alg_mismatch'],
    ['an algorithm that does not fit the key', { algorithm: 'rsa-sha256' }, 'alg_mismatch'],
    ['a signature over another target', { target: '/tools/other' }, 'signature_invalid'],
  ])('rejects %s', async (_name, spec, reason) => {
    const v = await verifier();
    let f = cavageFacts(spec);
    if (spec.target === '/tools/other') f = { ...f, target: '/tools/email.send' };
    expect(await reasonOf(v.verify(f))).toBe(reason);
  });

  it('also reads the parameters from a Signature header (the draft\'s second form)', async () => {
    const v = await verifier();
    const f = cavageFacts();
    const { authorization, ...rest } = f.headers as Record<string, string>;
    await expect(v.verify({ ...f, headers: { ...rest, signature: authorization!.replace(/^Signature /, '') } })).resolves.toMatchObject({ scheme: 'cavage' });
  });

  it('refuses a replay of the same signature', async () => {
    const v = await verifier();
    const f = cavageFacts();
    await v.verify(f);
    expect(await reasonOf(v.verify(f))).toBe('replayed');
  });

  it('never lets an RFC 9421 request reach http-signature (whose parser throws on it)', async () => {
    const v = await verifier();
    const f = cavageFacts();
    const mixed = { ...f, headers: { ...f.headers, 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' } };
    const reason = await reasonOf(v.verify(mixed));
    expect(reason).not.toBe('signature_missing');
    expect(((await v.verify(mixed).catch((e: unknown) => e)) as IdentityError).claimed.scheme).toBe('rfc9421');
  });

  it('requires requiredHeaders to keep (request-target), host and date', async () => {
    await expect(createVerifier({ jwks: registryFor(key), cavage: { requiredHeaders: ['date'] } })).rejects.toThrow(/request-target/);
    await expect(createVerifier({ jwks: registryFor(key), cavage: { algorithms: ['hs2019'] } })).rejects.toThrow(/not supported/);
  });

  it('verifies what http-signature’s own signer sends over real HTTP (original URL as target)', async () => {
    const httpSignature = createRequire(import.meta.url)('http-signature') as { sign(req: unknown, options: object): void };
    const pem = createPrivateKey({ key: key.privateJwk as never, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }).toString();
    const v = await createVerifier({ jwks: registryFor(key), cavage: {} });
    const server = await verifyingServer(v);
    try {
      const url = new URL(`${server.url}/tools/email.send?draft=1`);
      const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', date: new Date().toUTCString(), digest: DIGEST } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        httpSignature.sign(req, { key: pem, keyId: key.thumbprint, algorithm: 'ed25519-sha512', headers: ['(request-target)', 'host', 'date', 'digest'] });
        req.end(BODY);
      });
      expect(result.status, result.body).toBe(200);
      expect(JSON.parse(result.body)).toMatchObject({ scheme: 'cavage', id: 'receipts-bot' });
    } finally {
      await server.close();
    }
  });
});
