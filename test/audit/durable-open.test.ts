import { constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openAuditFile } from '../../src/audit/durable-fs.js';

/** The open flags the kernel holds for this process's descriptor (Linux: /proc/self/fdinfo, octal). */
function openFlags(fd: number): number {
  const line = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').find((l) => l.startsWith('flags:'));
  return Number.parseInt(line!.split(/\s+/)[1]!, 8);
}

describe.runIf(process.platform === 'linux')('audit file opener', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-durable-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens new and existing files for appending with O_DSYNC, so each write is durable when it returns', async () => {
    const path = join(dir, 'audit.jsonl');
    for (const round of ['created', 'reopened']) {
      const fh = await openAuditFile(path);
      try {
        expect(fh.writesDurable, round).toBe(true);
        const flags = openFlags((fh as unknown as { fd: number }).fd);
        expect(flags & constants.O_DSYNC, `${round}: O_DSYNC`).toBe(constants.O_DSYNC);
        expect(flags & constants.O_APPEND, `${round}: O_APPEND`).toBe(constants.O_APPEND);
        await fh.write(Buffer.from(`${round}\n`), 0, round.length + 1);
      } finally {
        await fh.close();
      }
    }
    expect(readFileSync(path, 'utf8')).toBe('created\nreopened\n');
  });
});
