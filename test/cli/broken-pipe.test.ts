import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What `toolgate audit tail … | head -c N` does to the CLI: its reader takes one chunk and closes the pipe. */
async function readOneChunkThenClose(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; got: number }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const got = await new Promise<number>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.byteLength)));
  child.stdout.destroy();
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  return { code, signal, stderr, got };
}

describe('the CLI when its reader closes the pipe early', () => {
  it('exits with 141, as a command killed by SIGPIPE does, and prints no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-epipe-'));
    dirs.push(dir);
    const file = join(dir, 'audit.jsonl');
    // Far more than a pipe holds (64 KiB), so the CLI is still writing when the reader goes away.
    writeFileSync(file, `${JSON.stringify({ type: 'decision', note: 'x'.repeat(200) })}\n`.repeat(40_000));
    const { code, signal, stderr, got } = await readOneChunkThenClose(['audit', 'tail', '--file', file, '--json']);
    expect(got).toBeGreaterThan(0);
    expect(signal).toBeNull();
    expect(code).toBe(141);
    expect(stderr).toBe('');
  });
});
