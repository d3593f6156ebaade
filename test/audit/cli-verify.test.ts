import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, FileSink } from '../../src/audit/index.js';
import { auditKey, cliVerify, event } from './support/chain-check.js';

describe('toolgate audit verify --file', () => {
  const { privateKey } = auditKey();
  const keyFile = join(mkdtempSync(join(tmpdir(), 'tg-cli-')), 'key.pem');
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));

  async function threeEvents(): Promise<string> {
    const file = join(mkdtempSync(join(tmpdir(), 'tg-cli-')), 'audit.jsonl');
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    for (const id of ['a', 'b', 'c']) await log.record(event(id));
    await log.close();
    return file;
  }

  it('reports a torn last line (a crash before the gateway reopened the file) without failing', async () => {
    const file = await threeEvents();
    appendFileSync(file, '{"decision_id":"d","cha');
    const { code, out } = await cliVerify(file, keyFile);
    expect(out).toMatch(/^OK: 3 events, .* 0 unreadable\n/);
    expect(out).toContain('torn last line: 23 bytes');
    expect(code).toBe(0);
  });

  it('fails on an unreadable line between events (what a short write counted as durable used to leave)', async () => {
    const file = await threeEvents();
    appendFileSync(file, '{"decision_id":"d","cha\n');
    const log = await AuditLog.open(new FileSink(file), privateKey, 'gw-1');
    await log.record(event('e'));
    await log.close();
    const { code, out } = await cliVerify(file, keyFile);
    expect(out).toMatch(/^FAILED: 5 events, .* 1 unreadable\n/);
    expect(code).toBe(1);
  });
});
