import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDurableApp } from '../../src/bench/apps.js';
import { exampleTools } from '../../src/server/example-tools.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The bench's durable-write floor writes what the pipeline's audit stage writes per allowed call: two lines. */
describe('the durable write alone (bench floor)', () => {
  it('makes a decision line durable before the tool runs and writes the deferred completion by close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-durable-'));
    dirs.push(dir);
    const { tools, outbox } = exampleTools();
    const lines = () => readFileSync(join(dir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).length;
    const { app, close } = await createDurableApp(tools, dir);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tools/email.send`;
    try {
      const calls = 20;
      for (let i = 0; i < calls; i++) {
        const before = lines();
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: ['a@b.example'], subject: `s${i}` }) });
        expect(response.status).toBe(200);
        // This call's decision line was on disk before the tool answered.
        expect(lines()).toBeGreaterThan(before);
      }
      expect(outbox).toHaveLength(calls);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await close();
    }
    expect(lines()).toBe(40);
  });
});
