import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChainSigner, checkEvent, GENESIS, canonicalJson, type UnchainedEvent } from '../../src/audit/index.js';

const base = (id: string): UnchainedEvent => ({
  schema: 'toolgate.audit/v1', type: 'decision', decision_id: id, timestamp: '2026-11-25T10:00:00.000000000Z', path: 'toolgate/decision',
  input: { args: { b: 1, a: 2 } }, result: null, bundles: { toolgate: { revision: 'r1' } }, erased: [], masked: [], metrics: {},
  trace_id: null, span_id: null, labels: { id: 'gw', version: '0', environment: 'test' },
  agent: { id: 'a', scheme: 'rfc9421', verified: true, key_id: 'k', thumbprint: 't' }, tool: { name: 't', protocol: 'http' },
  outcome: 'allow', reasons: [], policy: { revision: 'r1', sha256: 'x' },
  request: { method: 'POST', path: '/tools/t', body_sha256: 'y', args_sha256: 'z', attachments: [] },
  response: null, approval: null, break_glass: null,
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
  });
});

describe('ChainSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');

  it('links events by hash and signs them', () => {
    const signer = new ChainSigner(privateKey, 'gw');
    const e1 = signer.link(base('1'));
    const e2 = signer.link(base('2'));
    expect(e1.chain.seq).toBe(0);
    expect(e1.chain.prev).toBe(GENESIS);
    expect(e2.chain.prev).toBe(e1.chain.hash);
    expect(checkEvent(e1, publicKey)).toEqual({ hashOk: true, sigOk: true });
    expect(checkEvent(e2, publicKey)).toEqual({ hashOk: true, sigOk: true });
  });

  it('detects tampering with any member and a forged signature', () => {
    const e = new ChainSigner(privateKey, 'gw').link(base('1'));
    expect(checkEvent({ ...e, outcome: 'deny' }, publicKey).hashOk).toBe(false);
    const other = generateKeyPairSync('ed25519');
    expect(checkEvent(e, other.publicKey).sigOk).toBe(false);
  });

  it('resumes a chain after the last event', () => {
    const first = new ChainSigner(privateKey, 'gw');
    const last = first.link(base('1'));
    const resumed = new ChainSigner(privateKey, 'gw', last).link(base('2'));
    expect(resumed.chain).toMatchObject({ seq: 1, prev: last.chain.hash, epoch: last.chain.epoch });
  });
});
