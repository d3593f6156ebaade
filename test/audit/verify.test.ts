import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChainSigner, ed25519Thumbprint, verifyEvents, type AuditEvent, type UnchainedEvent } from '../../src/audit/index.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const keys = new Map([[ed25519Thumbprint(publicKey), publicKey]]);
const base = (id: string) => ({ decision_id: id, outcome: 'allow', reasons: [] }) as unknown as UnchainedEvent;

function chain(n: number, instance = 'gw-1', prefix = 'd'): AuditEvent[] {
  const signer = new ChainSigner(privateKey, instance);
  return Array.from({ length: n }, (_, i) => signer.link(base(`${prefix}${i}`)));
}

describe('verifyEvents', () => {
  it('passes an intact chain and counts its decisions', () => {
    const r = verifyEvents(chain(5), keys);
    expect(r.ok).toBe(true);
    expect(r.chains[0]).toMatchObject({ events: 5, firstSeq: 0, lastSeq: 4, gaps: [], duplicates: [], reordered: [], brokenLinks: [], badHashes: [], badSignatures: [], unknownKeys: [] });
  });

  it('reports a gap', () => {
    const e = chain(6);
    const r = verifyEvents([e[0]!, e[1]!, e[4]!, e[5]!], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.gaps).toEqual([{ from: 2, to: 3 }]);
  });

  it('drops duplicates (a re-sent batch) without failing', () => {
    const e = chain(3);
    const r = verifyEvents([...e, e[1]!, e[2]!], keys);
    expect(r.ok).toBe(true);
    expect(r.chains[0]!.duplicates).toEqual([1, 2]);
    expect(r.chains[0]!.events).toBe(3);
  });

  it('reports reordering', () => {
    const e = chain(3);
    const r = verifyEvents([e[0]!, e[2]!, e[1]!], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.reordered).toEqual([1]);
    expect(r.chains[0]!.brokenLinks).toEqual([]);
  });

  it('reports an edited event as a bad hash', () => {
    const e = chain(3);
    const edited = { ...e[1]!, outcome: 'deny' } as AuditEvent;
    const r = verifyEvents([e[0]!, edited, e[2]!], keys);
    expect(r.chains[0]!.badHashes).toEqual([1]);
    expect(r.ok).toBe(false);
  });

  it('reports a re-hashed forgery as a bad signature and a broken link', () => {
    const e = chain(3);
    const forger = new ChainSigner(generateKeyPairSync('ed25519').privateKey, 'gw-1');
    const forged = forger.link(base('forged'));
    // Pretend it sits at seq 1 with the right prev: the forger cannot sign as the gateway.
    const fake = { ...forged, chain: { ...e[1]!.chain, hash: forged.chain.hash, sig: forged.chain.sig } } as AuditEvent;
    const r = verifyEvents([e[0]!, fake, e[2]!], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.badHashes).toContain(1);
    expect(r.chains[0]!.brokenLinks).toContain(2);
  });

  it('reports a fork (another history signed with the same key) as a broken link', () => {
    const a = chain(4);
    const b = chain(4, 'gw-1', 'other');
    const fork = { ...b[2]!, chain: { ...b[2]!.chain, epoch: a[0]!.chain.epoch } } as AuditEvent;
    const r = verifyEvents([a[0]!, a[1]!, fork], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.brokenLinks).toContain(2);
  });

  it('keeps chains of different instances apart and flags unknown keys and unreadable lines', () => {
    const r = verifyEvents([...chain(2, 'gw-a'), ...chain(3, 'gw-b'), null], new Map());
    expect(r.chains.map((c) => [c.instance, c.events])).toEqual([['gw-a', 2], ['gw-b', 3]]);
    expect(r.chains[0]!.unknownKeys).toEqual([0, 1]);
    expect(r.unreadable).toBe(1);
    expect(r.ok).toBe(false);
  });
});
