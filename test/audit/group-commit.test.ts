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
