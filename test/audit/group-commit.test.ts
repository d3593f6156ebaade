import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditLog, FileSink, GroupCommit } from '../../src/audit/index.js';

describe('GroupCommit', () => {
  it('batches concurrent pushes and keeps order', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number>(async (items) => {
      batches.push(items);
      await new Promise((r) => setImmediate(r));
    });
    await Promise.all(Array.from({ length: 50 }, (_, i) => gc.push([i])));
    expect(batches.flat()).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(batches.length).toBeLessThan(50);
  });

  it('rejects the callers of a failed batch and recovers', async () => {
    let fail = true;
    const gc = new GroupCommit<number>(async () => {
      if (fail) throw new Error('disk full');
    });
    await expect(gc.push([1])).rejects.toThrow('disk full');
    fail = false;
    await expect(gc.push([2])).resolves.toBeUndefined();
  });
});

describe('GroupCommit: deferred items', () => {
  const recorder = () => {
    const batches: string[][] = [];
    const gc = new GroupCommit<string>(async (items) => {
      batches.push(items);
    });
    return { gc, batches };
  };

  it('a deferred item rides in the next waited-on item\'s write, in order', async () => {
    const { gc, batches } = recorder();
    const completion = gc.push(['completion of 1'], 60_000);
    expect(batches).toEqual([]);
    await gc.push(['decision 2']);
    await completion;
    expect(batches).toEqual([['completion of 1', 'decision 2']]);
  });

  it('is written on its own once the deferral is up', async () => {
    const { gc, batches } = recorder();
    const started = performance.now();
    await gc.push(['completion'], 20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
    expect(batches).toEqual([['completion']]);
  });

  it('flush writes what is deferred at once (before a close)', async () => {
    const { gc, batches } = recorder();
    const completion = gc.push(['completion'], 60_000);
    await gc.flush();
    await completion;
    expect(batches).toEqual([['completion']]);
    await gc.flush(); // nothing queued: resolves at once
    expect(batches).toHaveLength(1);
  });

  it('a deferred item queued while a write runs goes in the next write, without waiting out its deferral', async () => {
    let release!: () => void;
    const batches: string[][] = [];
    const gc = new GroupCommit<string>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await new Promise<void>((r) => (release = r));
    });
    const first = gc.push(['decision 1']);
    const completion = gc.push(['completion of 1'], 60_000);
    release();
    await Promise.all([first, completion]);
    expect(batches).toEqual([['decision 1'], ['completion of 1']]);
  });
});

describe('AuditLog: completions recorded later', () => {
  it('close writes a completion still waiting for a decision to carry it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-audit-'));
    const file = join(dir, 'audit.jsonl');
    const { privateKey } = generateKeyPairSync('ed25519');
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    await log.record({ decision_id: 'a', type: 'decision' } as never);
    const completion = log.record({ decision_id: 'a', type: 'completion' } as never, { later: true });
    await log.close();
    await completion;
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; chain: { seq: number } });
    expect(lines.map((l) => [l.type, l.chain.seq])).toEqual([['decision', 0], ['completion', 1]]);
  });
});

describe('FileSink via AuditLog', () => {
  it('appends chained events durably and resumes the chain after reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-audit-'));
    const file = join(dir, 'audit.jsonl');
    const { privateKey } = generateKeyPairSync('ed25519');
    const ev = (id: string) => ({ decision_id: id }) as never;
    const log1 = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    await Promise.all([log1.record(ev('a')), log1.record(ev('b'))]);
    await log1.close();
    const log2 = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    await log2.record(ev('c'));
    await log2.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.decision_id, l.chain.seq])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(lines[2].chain.prev).toBe(lines[1].chain.hash);
  });
});
