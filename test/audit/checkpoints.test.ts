import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_SCHEMA, ChainSigner, FileSink, SpoolSink, ed25519Thumbprint, eventHash, verifyEvents,
  type AuditEvent, type AuditSink, type UnchainedEvent,
} from '../../src/audit/index.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { auditKey, cliVerify, event, verifyFile } from './support/chain-check.js';
import { MemorySink } from './support/memory-sink.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Writes one batch per size through `sink`, as AuditLog does with each group commit: draft, write, commit. */
async function batches(sink: AuditSink, signer: ChainSigner, sizes: readonly number[]): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (const size of sizes) {
    const drafted = signer.draft(Array.from({ length: size }, (_, i) => event(`d${out.length + i}`)));
    await sink.write(drafted);
    signer.commit(drafted.at(-1)!);
    out.push(...drafted);
  }
  return out;
}

/** A full event of the current schema, as the gateway writes it. */
const fullEvent = (id: string): UnchainedEvent => ({
  schema: AUDIT_SCHEMA, type: 'decision', decision_id: id, timestamp: '2026-11-25T10:00:00.000000000Z', path: 'toolgate/decision',
  input: { args: { b: 1, a: 'ü' } }, result: null, bundles: { toolgate: { revision: 'r1' } }, erased: [], masked: [], metrics: {},
  trace_id: null, span_id: null, labels: { id: 'gw', version: '0', environment: 'test' },
  agent: { id: 'a', scheme: 'rfc9421', verified: true, key_id: 'k', thumbprint: 't' }, tool: { name: 't', protocol: 'http' },
  outcome: 'allow', reasons: [], policy: { revision: 'r1', sha256: 'a'.repeat(64) },
  request: { method: 'POST', path: '/tools/t', body_sha256: 'b'.repeat(64), args_sha256: 'c'.repeat(64), attachments: [] },
  response: null, approval: null, break_glass: null,
});

/** Re-links `events` from index `from` on, as someone without the gateway's key could (hashes and links right). */
function relink(events: AuditEvent[], from: number): AuditEvent[] {
  const out = events.slice(0, from);
  for (let i = from; i < events.length; i++) {
    const e = events[i]!;
    const { hash: _h, sig, ...link } = e.chain;
    const rest = { ...link, prev: out[i - 1]?.chain.hash ?? link.prev };
    out.push({ ...e, chain: { ...rest, hash: eventHash(rest.prev, { ...e, chain: rest }), ...(sig ? { sig } : {}) } });
  }
  return out;
}

describe('checkpoint signatures (schema v2)', () => {
  it('signs the last event of each durable batch only, and every event verifies', async () => {
    const { privateKey, keys } = auditKey();
    const dir = mkdtempSync(join(tmpdir(), 'tg-ckpt-'));
    const file = join(dir, 'audit.jsonl');
    const sink = new FileSink(file);
    await sink.open();
    await batches(sink, new ChainSigner(privateKey, 'gw-1'), [1, 4, 3]);
    await sink.close();
    const { events, report } = verifyFile(file, keys);
    expect(events.map((e) => e.chain.sig !== undefined)).toEqual([true, false, false, false, true, false, false, true]);
    expect(report).toMatchObject({ ok: true, unreadable: 0 });
    expect(report.chains[0]).toMatchObject({ events: 8, checkpoints: 3, uncovered: [], badSignatures: [], unknownKeys: [] });
  });

  it('full v2 events, signed and unsigned, match the JSON Schema', () => {
    const { privateKey } = auditKey();
    expect(AUDIT_SCHEMA).toBe('toolgate.audit/v2');
    const [inside, checkpoint] = new ChainSigner(privateKey, 'gw-1').draft([fullEvent('1'), fullEvent('2')]);
    expect(inside!.chain.sig).toBeUndefined();
    assertAuditEvent(inside);
    assertAuditEvent(checkpoint);
  });

  it('reports events after the last signature as uncovered (a batch cut short, or appended without the key), and fails', async () => {
    const { privateKey, keys } = auditKey();
    const signer = new ChainSigner(privateKey, 'gw-1');
    const first = signer.draft([event('a'), event('b')]);
    signer.commit(first[1]!);
    const second = signer.draft([event('c'), event('d'), event('e')]);
    // The second batch lost its last line: c and d are linked but no signature covers them.
    const r = verifyEvents([...first, second[0]!, second[1]!], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]).toMatchObject({ uncovered: [2, 3], badSignatures: [], brokenLinks: [], badHashes: [], gaps: [] });
    // Someone without the key appends a well-linked event after the last checkpoint: not covered either.
    const forged = relink([...first, { ...second[0]!, decision_id: 'forged' } as AuditEvent], 2);
    expect(verifyEvents(forged, keys).chains[0]!.uncovered).toEqual([2]);
  });

  it('an unsigned event edited inside a batch cannot be re-linked up to the checkpoint without the key', () => {
    const { privateKey, keys } = auditKey();
    const events = new ChainSigner(privateKey, 'gw-1').draft([event('a'), event('b'), event('c'), event('d')]);
    const edited = relink(events.map((e, i) => (i === 1 ? ({ ...e, outcome: 'deny' } as unknown as AuditEvent) : e)), 1);
    const r = verifyEvents(edited, keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.badSignatures).toEqual([3]); // the checkpoint's signature no longer matches its hash
    expect(r.chains[0]!.badHashes).toEqual([]);
  });

  it('`audit verify` names the uncovered tail and exits non-zero', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'tg-ckpt-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const file = join(dir, 'audit.jsonl');
    const events = new ChainSigner(privateKey, 'gw-1').draft([event('a'), event('b'), event('c')]);
    writeFileSync(file, events.slice(0, 2).map((e) => `${JSON.stringify(e)}\n`).join(''));
    const out = await cliVerify(file, keyFile);
    expect(out.code).toBe(1);
    expect(out.out).toMatch(/^FAILED: 2 events/);
    expect(out.out).toContain('2 event(s) after the last signature, covered by no checkpoint (seq 0..1)');
  });

  it('the spool forwards to Kafka in sends that end at a checkpoint, so the topic never ends uncovered between sends', async () => {
    const { privateKey, keys } = auditKey();
    let open = false;
    const sends: AuditEvent[][] = [];
    const kafka = new MemorySink();
    const inner: AuditSink = {
      name: 'gated',
      open: async () => undefined,
      write: async (events) => {
        if (!open) throw new Error('broker down');
        sends.push([...events]);
        await kafka.write(events);
      },
      healthy: () => open,
      close: async () => undefined,
    };
    const spool = new SpoolSink({ dir: mkdtempSync(join(tmpdir(), 'tg-spool-')), inner, maxBatch: 4 });
    await spool.open();
    await batches(spool, new ChainSigner(privateKey, 'gw-1'), [3, 2, 3, 1]); // spooled while the broker is down
    open = true;
    expect(await spool.drain(5_000)).toBe(true);
    await spool.close();
    expect(sends.map((s) => s.length)).toEqual([3, 2, 4]);
    for (const s of sends) expect(s.at(-1)!.chain.sig).toBeDefined();
    expect(verifyEvents(kafka.events, keys)).toMatchObject({ ok: true });
  });
});

describe('v1 events (every event signed) still verify', () => {
  const jwks = JSON.parse(readFileSync(fixture('v1-key.jwks.json'), 'utf8')) as { keys: object[] };
  const key = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' });
  const keys = new Map<string, KeyObject>([[ed25519Thumbprint(key), key]]);
  const v1 = readFileSync(fixture('v1-chain.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);

  it('a file written by the v1 gateway passes, and a v1 event without its signature fails', () => {
    expect(v1.map((e) => e.schema)).toEqual(Array(4).fill('toolgate.audit/v1'));
    expect(verifyEvents(v1, keys)).toMatchObject({ ok: true, chains: [{ events: 4, checkpoints: 4, uncovered: [], badSignatures: [] }] });
    const { sig: _sig, ...unsigned } = v1[1]!.chain;
    const r = verifyEvents([v1[0]!, { ...v1[1]!, chain: unsigned }, v1[2]!, v1[3]!], keys);
    expect(r.ok).toBe(false);
    expect(r.chains[0]!.badSignatures).toEqual([1]);
  });

  it('a v1 chain continued by this gateway verifies across the change of schema', () => {
    const { privateKey } = auditKey();
    // The continuation is signed with a new key here; verify is given both, as an auditor with the JWKS of each.
    const signer = new ChainSigner(privateKey, 'gw-v1', v1.at(-1));
    const next = signer.draft([event('n1'), event('n2')]);
    const both = new Map(keys);
    both.set(signer.keyId, createPublicKey(privateKey));
    expect(next[0]!.chain).toMatchObject({ seq: 4, prev: v1.at(-1)!.chain.hash, epoch: v1[0]!.chain.epoch });
    expect(verifyEvents([...v1, ...next], both)).toMatchObject({ ok: true, chains: [{ events: 6, checkpoints: 5 }] });
  });

  it('`audit verify --file` passes the v1 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-v1-'));
    const keyFile = join(dir, 'pub.pem');
    writeFileSync(keyFile, key.export({ format: 'pem', type: 'spki' }));
    const out = await cliVerify(fixture('v1-chain.jsonl'), keyFile);
    expect(out).toMatchObject({ code: 0 });
    expect(out.out).toMatch(/^OK: 4 events/);
  });
});
