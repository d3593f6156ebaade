import { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createKeyDirectory, generateAgentKey } from '../../src/agent/index.js';
import { jwks, keygen } from '../../src/cli/identity.js';
import { ALGORITHMS, type Algorithm } from '../../src/identity/algorithms.js';
import { createVerifier, type JwksDocument } from '../../src/identity/index.js';
import { signedFacts, T0 } from '../identity/helpers.js';

type Signable = Exclude<Algorithm, 'hmac-sha256'>;

// What WebCrypto needs to import each key type, and the JOSE name its JWK must carry (RFC 7518, RFC 8037).
const WEBCRYPTO: Readonly<Record<Signable, { jose: string; params: webcrypto.AlgorithmIdentifier | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams }>> = {
  'ed25519': { jose: 'EdDSA', params: { name: 'Ed25519' } },
  'ecdsa-p256-sha256': { jose: 'ES256', params: { name: 'ECDSA', namedCurve: 'P-256' } },
  'ecdsa-p384-sha384': { jose: 'ES384', params: { name: 'ECDSA', namedCurve: 'P-384' } },
  'rsa-pss-sha512': { jose: 'PS512', params: { name: 'RSA-PSS', hash: 'SHA-512' } },
  'rsa-v1_5-sha256': { jose: 'RS256', params: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
};
const SIGNABLE = ALGORITHMS.filter((a): a is Signable => a !== 'hmac-sha256');

async function cli(run: (argv: string[], out: PassThrough) => Promise<number>, argv: string[]): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  expect(await run(argv, out)).toBe(0);
  return text;
}

describe('JWKs the agent side writes import into WebCrypto (JOSE "alg" names)', () => {
  it.each(SIGNABLE)('%s: the keygen key file, its jwks entry and its directory entry import; the key still verifies', async (alg) => {
    const { jose, params } = WEBCRYPTO[alg];
    const dir = await mkdtemp(join(tmpdir(), 'toolgate-jwk-'));
    const keyFile = join(dir, 'agent.key.json');
    await cli(keygen, ['--out', keyFile, '--alg', alg, '--agent', 'bot']);
    const privateJwk = JSON.parse(await readFile(keyFile, 'utf8')) as webcrypto.JsonWebKey & { kid: string };
    expect(privateJwk.alg).toBe(jose);
    await expect(webcrypto.subtle.importKey('jwk', privateJwk, params, false, ['sign'])).resolves.toMatchObject({ type: 'private' });

    const registry = JSON.parse(await cli(jwks, [keyFile, '--agent', 'bot'])) as { keys: (webcrypto.JsonWebKey & { agent: string })[] };
    expect(registry.keys[0]!.alg).toBe(jose);
    await expect(webcrypto.subtle.importKey('jwk', registry.keys[0]!, params, false, ['verify'])).resolves.toMatchObject({ type: 'public' });

    const published = JSON.parse(createKeyDirectory([privateJwk as never]).body) as { keys: webcrypto.JsonWebKey[] };
    expect(published.keys[0]!.alg).toBe(jose);
    await expect(webcrypto.subtle.importKey('jwk', published.keys[0]!, params, false, ['verify'])).resolves.toMatchObject({ type: 'public' });

    const v = await createVerifier({ jwks: registry as unknown as JwksDocument, now: () => T0 });
    await expect(v.verify(signedFacts({ privateJwk: privateJwk as never }))).resolves.toMatchObject({ id: 'bot', keyId: privateJwk.kid });
  });

  it.each(SIGNABLE)('%s: a key file and registry entry written with the RFC 9421 name still load, sign and verify', async (alg) => {
    const key = generateAgentKey(alg);
    const dir = await mkdtemp(join(tmpdir(), 'toolgate-jwk-old-'));
    const keyFile = join(dir, 'old.key.json');
    const oldPrivate = { ...key.privateJwk, alg };
    await writeFile(keyFile, JSON.stringify(oldPrivate));
    const registry = { keys: [{ ...key.publicJwk, alg, agent: 'old-bot' }] };
    const v = await createVerifier({ jwks: registry, now: () => T0 });
    await expect(v.verify(signedFacts({ privateJwk: oldPrivate }))).resolves.toMatchObject({ id: 'old-bot' });
    // Re-exporting an old file writes the JOSE name, so the result imports into WebCrypto.
    const exported = JSON.parse(await cli(jwks, [keyFile])) as { keys: webcrypto.JsonWebKey[] };
    expect(exported.keys[0]!.alg).toBe(WEBCRYPTO[alg].jose);
    await expect(webcrypto.subtle.importKey('jwk', exported.keys[0]!, WEBCRYPTO[alg].params, false, ['verify'])).resolves.toBeTruthy();
  });

  it('an hmac shared secret carries HS256 and imports as a WebCrypto HMAC key', async () => {
    const { generateSharedSecret } = await import('../../src/agent/index.js');
    const secret = generateSharedSecret('shared-1');
    expect(secret.alg).toBe('HS256');
    await expect(webcrypto.subtle.importKey('jwk', secret as webcrypto.JsonWebKey, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])).resolves.toBeTruthy();
  });
});
