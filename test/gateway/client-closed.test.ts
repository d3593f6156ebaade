import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import { AgentClient } from '../../src/agent/client.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Resolves once `check` holds, polling every few milliseconds (no fixed sleeps). */
async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A client that hangs up while the tool runs must not get its quota back: the tool was called and acted. The
 * demo policy allows the advisor 30 trade.suggest calls a minute.
 */
describe('a client that closes the connection while the tool runs', () => {
  let gw: TestGateway;
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => (release = r));
  let started = 0;
  let ran = 0;
  beforeAll(async () => {
    const { tools } = exampleTools();
    const suggest = tools['trade.suggest']!;
    const slow = Object.assign(async (...args: Parameters<typeof suggest>) => {
      started++;
      await gate;
      ran++;
      return suggest(...args);
    }, suggest);
    gw = await startTestGateway({}, { tools: { ...tools, 'trade.suggest': slow } });
  });
  afterAll(() => gw?.close());

  it('keeps the call\'s limit and records its completion as ended by the client (499)', async () => {
    const signedFetch = createSignedFetch({ privateJwk: gw.agents.keys.advisor });
    const aborts: AbortController[] = [];
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      const abort = new AbortController();
      aborts.push(abort);
      const body = JSON.stringify({ symbol: 'VTI', side: 'buy', quantity: 1 });
      calls.push(signedFetch(`${gw.url}/tools/trade.suggest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: abort.signal }).catch(() => undefined));
    }
    await until(() => started === 30); // every call allowed, recorded and handed to the tool
    for (const abort of aborts) abort.abort();
    await Promise.all(calls);
    const completions = () => readAuditFile(gw.config.audit.file).filter((e) => e.type === 'completion' && e.tool?.name === 'trade.suggest');
    await until(() => completions().length === 30);
    expect(completions().every((e) => e.response?.status === 499)).toBe(true);
    release();
    await until(() => ran === 30);
    gate = Promise.resolve();

    // The 31st call in the minute is over the limit: the 30 that hung up kept their quota.
    const advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
    const next = await advisor.callTool('trade.suggest', { symbol: 'VTI', side: 'buy', quantity: 1 });
    expect(next.status).toBe(429);
  }, 60_000);
});
