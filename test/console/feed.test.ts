import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainSigner, type AuditEvent } from '../../src/audit/index.js';
import { chain, event } from './events.js';
import { checkChain } from '../../src/console/detail.js';
import { AuditFeed } from '../../src/console/feed.js';
import { tailAuditFile } from '../../src/console/tail-file.js';

const line = (e: AuditEvent) => JSON.stringify(e);

describe('AuditFeed', () => {
  it('lists newest first with filters, and stays within its count and byte bounds', () => {
    const feed = new AuditFeed(3, 1 << 20);
    const { events } = chain([5]);
    for (const e of events) feed.add(line(e));
    feed.add('not json');
    feed.add('{"no":"chain"}');
    expect(feed.size).toBe(3);
    expect(feed.list({}, 10).map((s) => s.decision_id)).toEqual(['d4', 'd3', 'd2']);
    expect(feed.list({ agent: 'someone' }, 10)).toEqual([]);
    expect(feed.events('d0')).toEqual([]);
    const big = new AuditFeed(100, 3000);
    for (const e of events) big.add(line(e));
    expect(big.size).toBeLessThan(5);
    expect(big.list({}, 1)[0]!.decision_id).toBe('d4');
  });

  it('keeps an event delivered twice once (a topic read again after a broker failure)', () => {
    const feed = new AuditFeed(10, 1 << 20);
    const { events } = chain([2]);
    for (const e of [...events, ...events]) feed.add(line(e));
    expect(feed.size).toBe(2);
  });

  it('filters by outcome, reason, type and time', () => {
    const feed = new AuditFeed(10, 1 << 20);
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = new ChainSigner(privateKey, 'gw');
    const drafted = signer.draft([
      event('a', { outcome: 'deny', reasons: [{ code: 'recipient_not_allowed', message: 'm' }], timestamp: '2026-11-25T10:00:00.000Z' }),
      event('b', { type: 'completion', timestamp: '2026-11-25T11:00:00.000Z' }),
    ]);
    for (const e of drafted) feed.add(line(e));
    expect(feed.list({ outcome: 'deny' }, 10).map((s) => s.decision_id)).toEqual(['a']);
    expect(feed.list({ reason: 'recipient_not_allowed' }, 10).map((s) => s.decision_id)).toEqual(['a']);
    expect(feed.list({ type: 'completion' }, 10).map((s) => s.decision_id)).toEqual(['b']);
    expect(feed.list({ sinceMs: Date.parse('2026-11-25T10:30:00Z') }, 10).map((s) => s.decision_id)).toEqual(['b']);
    expect(feed.list({ untilMs: Date.parse('2026-11-25T10:30:00Z') }, 10).map((s) => s.decision_id)).toEqual(['a']);
  });
});

describe('checkChain', () => {
  it('verifies an event through the checkpoint that covers it', () => {
    const { events, keys } = chain([3, 2]);
    const feed = new AuditFeed(100, 1 << 20);
    for (const e of events) feed.add(line(e));
    expect(checkChain(events[0]!, feed, keys)).toMatchObject({ seq: 0, hash_ok: true, signature: 'ok', checkpoint_seq: 2 });
    expect(checkChain(events[3]!, feed, keys)).toMatchObject({ hash_ok: true, signature: 'ok', checkpoint_seq: 4 });
    expect(checkChain(events[0]!, feed, new Map())).toMatchObject({ hash_ok: true, signature: 'unchecked' });
  });

  it('reports an edited event, a forged checkpoint, an uncovered tail and a hole', () => {
    const { events, keys } = chain([3, 2]);
    const edited = { ...events[1]!, outcome: 'deny' } as AuditEvent;
    const feed = new AuditFeed(100, 1 << 20);
    for (const e of [events[0]!, edited, events[2]!]) feed.add(line(e));
    expect(checkChain(edited, feed, keys)).toMatchObject({ hash_ok: false, signature: 'bad' });
    expect(checkChain(events[0]!, feed, keys)).toMatchObject({ hash_ok: true, signature: 'bad' });

    const forged = { ...events[2]!, chain: { ...events[2]!.chain, sig: events[4]!.chain.sig } } as AuditEvent;
    const feed2 = new AuditFeed(100, 1 << 20);
    for (const e of [events[0]!, events[1]!, forged]) feed2.add(line(e));
    expect(checkChain(events[0]!, feed2, keys)).toMatchObject({ hash_ok: true, signature: 'bad' });

    const tail = new AuditFeed(100, 1 << 20);
    for (const e of events.slice(0, 4)) tail.add(line(e));
    expect(checkChain(events[3]!, tail, keys)).toMatchObject({ signature: 'pending', checkpoint_seq: null });

    const hole = new AuditFeed(100, 1 << 20);
    for (const e of [events[0]!, events[2]!]) hole.add(line(e));
    expect(checkChain(events[0]!, hole, keys)).toMatchObject({ signature: 'unavailable' });
  });
});

describe('tailAuditFile', () => {
  it('reads complete lines only, follows appends, and survives the file getting shorter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-tail-'));
    const file = join(dir, 'audit.jsonl');
    const { events } = chain([4]);
    const feed = new AuditFeed(100, 1 << 20);
    writeFileSync(file, `${line(events[0]!)}\n${line(events[1]!).slice(0, 20)}`);
    const tail = tailAuditFile(file, feed, { pollMs: 20, startBytes: 1 << 20 });
    try {
      await tail.ready;
      expect(feed.size).toBe(1);
      appendFileSync(file, `${line(events[1]!).slice(20)}\n`);
      await expect.poll(() => feed.size).toBe(2);
      // A torn last line set aside at restart: the file is cut back, then continues.
      appendFileSync(file, line(events[2]!).slice(0, 30));
      truncateSync(file, `${line(events[0]!)}\n${line(events[1]!)}\n`.length);
      appendFileSync(file, `${line(events[2]!)}\n${line(events[3]!)}\n`);
      await expect.poll(() => feed.list({}, 10).map((s) => s.decision_id)).toEqual(['d3', 'd2', 'd1', 'd0']);
    } finally {
      tail.close();
    }
  });

  it('starts near the end of a long trail, skipping the cut first line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-tail-'));
    const file = join(dir, 'audit.jsonl');
    const { events } = chain([6]);
    writeFileSync(file, events.map((e) => `${line(e)}\n`).join(''));
    const feed = new AuditFeed(100, 1 << 20);
    const tail = tailAuditFile(file, feed, { pollMs: 1000, startBytes: line(events[5]!).length + 10 });
    await tail.ready;
    tail.close();
    expect(feed.list({}, 10).map((s) => s.decision_id)).toEqual(['d5']);
  });
});
