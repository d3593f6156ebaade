import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, FileSink, SpoolSink, verifyEvents, type AuditEvent, type AuditSink } from '../../src/audit/index.js';
import { UnavailableError } from '../../src/errors.js';
import { auditKey, event, verifyFile } from './support/chain-check.js';
import { faultyOpen, type FaultPlan } from './support/faulty-fs.js';
import { MemorySink } from './support/memory-sink.js';

const tempFile = (name = 'audit.jsonl') => join(mkdtempSync(join(tmpdir(), 'tg-faults-')), name);

async function expectRefused(p: Promise<unknown>): Promise<void> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UnavailableError);
  expect((error as UnavailableError).reason).toBe('audit_unavailable');
}

/** The file sink and the spool, each on a file system that misbehaves as `plan` says. */
const sinks: [string, (plan: FaultPlan) => { sink: AuditSink; file: string }][] = [
  ['file sink', (plan) => {
    const file = tempFile();
    return { sink: new FileSink(file, { openFile: faultyOpen(plan) }), file };
  }],
  ['spool', (plan) => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-spool-'));
    return { sink: new SpoolSink({ dir, inner: new MemorySink(), openFile: faultyOpen(plan) }), file: join(dir, 'spool.jsonl') };
  }],
];

describe.each(sinks)('%s on a failing disk', (_name, make) => {
  const { privateKey, keys } = auditKey();

  // Bytes a refused write leaves on disk until the next write cuts them (0: cut at once).
  it.each<[string, FaultPlan, number]>([
    // A full disk: the write takes part of the batch, the retry of the rest gets ENOSPC.
    ['a short write followed by ENOSPC', { write: (n, len) => (n === 4 ? { take: Math.floor(len / 2) } : n === 5 ? 'fail' : 'ok') }, 0],
    ['ENOSPC on the first byte', { write: (n) => (n === 4 ? 'fail' : 'ok') }, 0],
    ['fdatasync failing (EIO)', { datasync: (n) => n === 4 }, 0],
    ['a short write whose clean-up also fails', { write: (n) => (n === 4 ? { take: 7 } : n === 5 ? 'fail' : 'ok'), truncate: (n) => n === 1 }, 7],
  ])('%s: the call is refused, the file is cut back, no sequence number is used', async (_case, plan, left) => {
    const { sink, file } = make(plan);
    const log = await AuditLog.open(sink, privateKey, 'gw-1');
    for (const id of ['a', 'b', 'c']) await log.record(event(id));
    const durable = readFileSync(file);

    await expectRefused(log.record(event('lost')));
    expect(sink.healthy()).toBe(false);
    expect(readFileSync(file).length).toBe(durable.length + left);
    expect(readFileSync(file).subarray(0, durable.length)).toEqual(durable);

    const next = await log.record(event('d'));
    expect(sink.healthy()).toBe(true);
    const { events, report } = verifyFile(file, keys);
    expect(events.map((e) => [e.decision_id, e.chain.seq])).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
    expect(next.chain.prev).toBe(events[2]?.chain.hash);
    expect(report).toMatchObject({ ok: true, unreadable: 0 });
    expect(report.chains[0]?.gaps).toEqual([]);
    await log.close();
  });

  it('completes a write the file system takes in pieces (short writes are not failures)', async () => {
    const { sink, file } = make({ write: (_n, len) => ({ take: Math.min(len, 5) }) });
    const log = await AuditLog.open(sink, privateKey, 'gw-1');
    await Promise.all(['a', 'b', 'c'].map((id) => log.record(event(id))));
    const { events, report } = verifyFile(file, keys);
    expect(events.map((e) => e.decision_id)).toEqual(['a', 'b', 'c']);
    expect(report.ok).toBe(true);
    await log.close();
  });

  it('refuses a whole failed batch and chains the calls queued behind it from the last durable event', async () => {
    const { sink, file } = make({ write: (n) => (n === 2 ? 'fail' : 'ok') });
    const log = await AuditLog.open(sink, privateKey, 'gw-1');
    await log.record(event('first'));
    // One record starts a write; the ones made meanwhile queue up and go in the next batch.
    const failing = log.record(event('x0'));
    const queued = Array.from({ length: 8 }, (_, i) => log.record(event(`q${i}`)));
    await expectRefused(failing);
    const written = await Promise.all(queued);
    expect(written.map((e) => e.chain.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const { events, report } = verifyFile(file, keys);
    expect(events.map((e) => e.decision_id)).toEqual(['first', ...written.map((e) => e.decision_id)]);
    expect(report).toMatchObject({ ok: true, unreadable: 0 });
    await log.close();
  });
});

describe('AuditLog with a sink that refuses a write', () => {
  it('consumes no sequence number: the next event links to the last durable one', async () => {
    const { privateKey, keys } = auditKey();
    const stored: AuditEvent[] = [];
    let refuse = false;
    const sink: AuditSink = {
      name: 'flaky',
      open: async () => undefined,
      write: async (events) => {
        if (refuse) throw new UnavailableError('audit_unavailable', 'disk full');
        stored.push(...events);
      },
      healthy: () => !refuse,
      close: async () => undefined,
    };
    const log = await AuditLog.open(sink, privateKey, 'gw-1');
    await log.record(event('a'));
    refuse = true;
    await expectRefused(log.record(event('b')));
    await expectRefused(log.record(event('c')));
    refuse = false;
    const d = await log.record(event('d'));
    expect(d.chain.seq).toBe(1);
    expect(d.chain.prev).toBe(stored[0]?.chain.hash);
    expect(verifyEvents(stored, keys)).toMatchObject({ ok: true, unreadable: 0 });
  });
});

describe('a torn last line (a crash mid-write)', () => {
  const { privateKey, keys } = auditKey();
  const at = new Date('2026-11-25T10:00:00.000Z');

  async function writeThree(file: string): Promise<Buffer> {
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    for (const id of ['a', 'b', 'c']) await log.record(event(id));
    await log.close();
    return readFileSync(file);
  }

  it('is cut off at open, kept aside, reported, and the chain continues without a gap', async () => {
    const file = tempFile();
    const complete = await writeThree(file);
    const lastLine = complete.subarray(complete.lastIndexOf('\n', complete.length - 2) + 1);
    const torn = Buffer.from(lastLine.subarray(0, Math.floor(lastLine.length / 2)).toString('latin1').replace('"c"', '"t"'), 'latin1');
    appendFileSync(file, torn);
    const warnings: [string, Record<string, unknown> | undefined][] = [];

    const sink = new FileSink(file, { now: () => at });
    const log = await AuditLog.open(sink, privateKey, 'gw-1', { logger: { warn: (m, f) => warnings.push([m, f]) } });

    const setAside = `${file}.torn-2026-11-25T10-00-00-000Z`;
    expect(log.recovered).toEqual([{ file, setAside, offset: complete.length, bytes: torn.length, at: at.toISOString() }]);
    expect(readFileSync(setAside)).toEqual(torn);
    expect(readFileSync(file)).toEqual(complete);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[1]).toMatchObject({ setAside, bytes: torn.length });

    const d = await log.record(event('d'));
    await log.close();
    const { events, report } = verifyFile(file, keys);
    expect(events.map((e) => [e.decision_id, e.chain.seq])).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
    expect(d.chain.prev).toBe(events[2]?.chain.hash);
    expect(report).toMatchObject({ ok: true, unreadable: 0 });
  });

  it('a file that is one torn line starts over and keeps the bytes', async () => {
    const file = tempFile();
    writeFileSync(file, '{"decision_id":"half');
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    expect(log.recovered).toMatchObject([{ offset: 0, bytes: 20 }]);
    await log.record(event('a'));
    await log.close();
    expect(verifyFile(file, keys).report).toMatchObject({ ok: true, unreadable: 0 });
    expect(readdirSync(join(file, '..')).filter((f) => f.includes('.torn-'))).toHaveLength(1);
  });

  it('an intact file is left alone and nothing is reported', async () => {
    const file = tempFile();
    const complete = await writeThree(file);
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    expect(log.recovered).toEqual([]);
    expect(readFileSync(file)).toEqual(complete);
    await log.close();
  });

  it('the spool sets its torn line aside too and forwards only complete events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-spool-'));
    const first = new MemorySink();
    const log1 = await AuditLog.open(new SpoolSink({ dir, inner: first }), privateKey, 'gw-1');
    for (const id of ['a', 'b']) await log1.record(event(id));
    await log1.close();
    const spool = join(dir, 'spool.jsonl');
    const size = statSync(spool).size;
    const torn = '{"decision_id":"torn","chain":{"seq"';
    appendFileSync(spool, torn);

    const second = new MemorySink();
    const log2 = await AuditLog.open(new SpoolSink({ dir, inner: second }), privateKey, 'gw-1');
    expect(log2.recovered).toMatchObject([{ file: spool, offset: size, bytes: torn.length }]);
    await log2.record(event('c'));
    await log2.close();
    expect(verifyEvents([...first.events, ...second.events], keys)).toMatchObject({ ok: true, unreadable: 0 });
    expect(second.events.at(-1)?.chain.seq).toBe(2);
  });
});

describe('the spool with durability kafka', () => {
  it('a decision spooled but not acknowledged in time is refused, yet keeps its chain position (no fork, no gap)', async () => {
    const { privateKey, keys } = auditKey();
    // A broker that takes nothing until released.
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const kafka = new MemorySink();
    const inner: AuditSink = {
      name: 'slow',
      open: async () => undefined,
      write: async (events) => released.then(() => kafka.write(events)),
      healthy: () => true,
      close: async () => undefined,
    };
    const spool = new SpoolSink({ dir: mkdtempSync(join(tmpdir(), 'tg-spool-')), inner, durability: 'kafka', ackTimeoutMs: 20 });
    const log = await AuditLog.open(spool, privateKey, 'gw-1');
    await expectRefused(log.record(event('unacknowledged')));
    release();
    const next = await log.record(event('next'));
    expect(next.chain.seq).toBe(1);
    await log.close();
    expect(kafka.events.map((e) => e.decision_id)).toEqual(['unacknowledged', 'next']);
    expect(verifyEvents(kafka.events, keys)).toMatchObject({ ok: true, unreadable: 0 });
  });
});
