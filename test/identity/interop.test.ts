import { createPrivateKey, createPublicKey, sign, verify, constants } from 'node:crypto';
import { createSignature, component, verifySignature, type RequestDescriptor } from 'http-message-sig';
import { describe, expect, it } from 'vitest';
import { createKeyDirectory, generateAgentKey, serveKeyDirectory, signRequest, type AgentKey } from '../../src/agent/index.js';
import { contentDigest, createVerifier, type Algorithm } from '../../src/identity/index.js';
import { facts, verifyingServer, registryFor, T0 } from './helpers.js';

const NOW_S = T0 / 1000;
const body = '{"to":"a@example.com"}';

function nodeSigner(key: AgentKey, alg: Algorithm) {
  const privateKey = createPrivateKey({ key: key.privateJwk as never, format: 'jwk' });
  return {
    algorithm: alg,
    sign: (data: Uint8Array) => {
      switch (alg) {
        case 'ed25519': return sign(null, data, privateKey);
        case 'ecdsa-p256-sha256': return sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        case 'ecdsa-p384-sha384': return sign('sha384', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        case 'rsa-pss-sha512': return sign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
        default: return sign('sha256', data, privateKey);
      }
    },
  };
}

function nodeVerifier(key: AgentKey, alg: Algorithm) {
  const publicKey = createPublicKey({ key: key.publicJwk as never, format: 'jwk' });
  return {
    algorithm: alg,
    verify: (data: Uint8Array, signature: Uint8Array) => {
      switch (alg) {
        case 'ed25519': return verify(null, data, publicKey, signature);
        case 'ecdsa-p256-sha256': return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
        case 'ecdsa-p384-sha384': return verify('sha384', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
        case 'rsa-pss-sha512': return verify('sha512', data, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature);
        default: return verify('sha256', data, publicKey, signature);
      }
    },
  };
}

const ALGS: Exclude<Algorithm, 'hmac-sha256'>[] = ['ed25519', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-pss-sha512', 'rsa-v1_5-sha256'];

describe('interop with http-message-sig (an independent RFC 9421 implementation)', () => {
  it.each(ALGS)('%s: http-message-sig signs, toolgate verifies (over real HTTP)', async (alg) => {
    const key = generateAgentKey(alg);
    const v = await createVerifier({ jwks: registryFor(key) });
    const server = await verifyingServer(v);
    try {
      const targetUri = `${server.url}/tools/email.send?draft=1`;
      const fields = [{ name: 'content-type', value: 'application/json' }, { name: 'content-digest', value: contentDigest(Buffer.from(body)) }];
      const message: RequestDescriptor = { kind: 'request', method: 'POST', targetUri, fields };
      const now = Math.floor(Date.now() / 1000);
      const signed = await createSignature(message, {
        label: 'sig1',
        components: ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type'],
        parameters: { created: now, expires: now + 60, keyid: key.thumbprint, nonce: `n-${alg}` },
        signer: nodeSigner(key, alg),
      });
      const response = await fetch(targetUri, { method: 'POST', body, headers: { ...Object.fromEntries(fields.map((f) => [f.name, f.value])), 'signature-input': signed.signatureInput, signature: signed.signature } });
      const result = await response.json();
      expect(response.status, JSON.stringify(result)).toBe(200);
      expect(result).toMatchObject({ id: 'receipts-bot', keyId: key.thumbprint, nonce: `n-${alg}` });
    } finally {
      await server.close();
    }
  });

  it.each(ALGS)('%s: toolgate signs, http-message-sig verifies under a strict policy', async (alg) => {
    const key = generateAgentKey(alg);
    const spec = { method: 'POST', url: 'https://gw.example/tools/email.send?draft=1', headers: { 'content-type': 'application/json' }, body };
    const added = signRequest(spec, { privateJwk: key.privateJwk, now: () => T0 });
    const headers: Record<string, string> = { ...spec.headers, ...added };
    const message: RequestDescriptor = { kind: 'request', method: 'POST', targetUri: spec.url, fields: Object.entries(headers).map(([name, value]) => ({ name, value })) };
    const verified = await verifySignature(message, {
      label: 'sig1',
      policy: {
        algorithms: [alg],
        requiredComponents: ['@method', '@authority', '@path', '@query', 'content-digest', 'content-type'],
        requiredParameters: ['created', 'expires', 'keyid', 'nonce'],
        maxAge: 300,
        now: NOW_S,
      },
      resolveVerifier: (candidate) => {
        if (candidate.parameters.keyid !== key.thumbprint) throw new Error('unknown key');
        return nodeVerifier(key, alg);
      },
    });
    expect(verified.label).toBe('sig1');
    // And the reverse check: the headers also verify with toolgate itself.
    const v = await createVerifier({ jwks: registryFor(key), now: () => T0 });
    await expect(v.verify(facts({ ...spec, headers }))).resolves.toMatchObject({ keyId: key.thumbprint });
  });

  it('a tampered toolgate signature fails in http-message-sig too', async () => {
    const key = generateAgentKey();
    const spec = { method: 'GET', url: 'https://gw.example/tools', headers: {} };
    const added = signRequest(spec, { privateJwk: key.privateJwk, now: () => T0 });
    const message: RequestDescriptor = { kind: 'request', method: 'GET', targetUri: 'https://gw.example/tools?x=1', fields: Object.entries(added).map(([name, value]) => ({ name, value })) };
    await expect(verifySignature(message, {
      label: 'sig1',
      policy: { algorithms: ['ed25519'], requiredComponents: ['@query'], requiredParameters: ['created'], now: NOW_S },
      resolveVerifier: () => nodeVerifier(key, 'ed25519'),
    })).rejects.toThrow();
  });

  it('Web Bot Auth: http-message-sig signs a dictionary-member Signature-Agent, toolgate verifies via the directory', async () => {
    const key = generateAgentKey();
    const directory = await serveKeyDirectory(createKeyDirectory([key.privateJwk]));
    try {
      const agentHeader = `sig1="${directory.url}"`;
      const fields = [{ name: 'signature-agent', value: agentHeader }];
      const message: RequestDescriptor = { kind: 'request', method: 'GET', targetUri: 'https://gw.example/tools?x=1', fields };
      const now = Math.floor(Date.now() / 1000);
      const signed = await createSignature(message, {
        label: 'sig1',
        components: ['@method', '@authority', '@path', '@query', component('signature-agent', { key: 'sig1' })],
        parameters: { created: now, expires: now + 60, keyid: key.thumbprint, tag: 'web-bot-auth' },
        signer: nodeSigner(key, 'ed25519'),
      });
      const v = await createVerifier({ webBotAuth: { allowHttp: true, allowAddresses: ['127.0.0.1'] } });
      const verified = await v.verify(facts({ method: 'GET', url: 'https://gw.example/tools?x=1', headers: { 'signature-agent': agentHeader, 'signature-input': signed.signatureInput, signature: signed.signature } }));
      expect(verified).toMatchObject({ scheme: 'web-bot-auth', id: directory.url, thumbprint: key.thumbprint });
    } finally {
      await directory.close();
    }
  });
});
