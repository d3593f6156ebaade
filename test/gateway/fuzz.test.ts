import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { AgentClient } from '../../src/agent/client.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { prng as rng } from '../helpers/random.js';


const FRAGMENTS = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-0', '"\\ud800"', '"__proto__"', '{"jsonrpc":"2.0"', '"method":"tools/call"', '"params":', '"name":', '"arguments":', '\u0000', '\\', '9'.repeat(400), 'é', '"to":["a@b.c"]'];

function hostileBody(r: () => number): string {
  const n = Math.floor(r() * 40);
  let out = '';
  for (let i = 0; i < n; i++) out += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)];
  if (r() < 0.1) out = '['.repeat(Math.floor(r() * 20000));
  return out;
}

/** Header values as a client can send them (Node refuses control characters): the rest stays hostile. */
const headerSafe = (v: string) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

function raw(port: number, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Hostile bodies, paths and headers through the whole gateway: always a coded 4xx, never a 5xx or a crash. */
describe('gateway under hostile requests', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it('answers 1500 generated unsigned and signed requests with 4xx (or a tool answer), never 5xx', async () => {
    const r = rng(42);
    const signed = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    const paths = ['/tools/email.send', '/mcp', '/tools/%ff', '/tools/a.b', `/tools/${'x'.repeat(300)}`, '/mcp?x=1', '/tools/email.send?q=%00'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const path = paths[Math.floor(r() * paths.length)]!;
      const body = hostileBody(r);
      let status: number;
      if (i % 3 === 0) {
        // Signed garbage: identity passes, so the parsers and the policy see it.
        status = (await signed.send('POST', path, body, { 'content-type': 'application/json' })).status;
      } else {
        const headers: Record<string, string> = { 'content-type': r() < 0.5 ? 'application/json' : 'text/plain' };
        if (r() < 0.5) headers['signature-input'] = hostileBody(r).slice(0, 4000) || 'sig1=()';
        if (r() < 0.5) headers.signature = `sig1=:${Buffer.from(hostileBody(r)).toString('base64').slice(0, 2000)}:`;
        if (r() < 0.2) headers['content-digest'] = hostileBody(r).slice(0, 200) || 'x';
        if (r() < 0.1) headers['toolgate-approval'] = hostileBody(r).slice(0, 300) || 'x';
        if (r() < 0.1) headers['toolgate-break-glass'] = hostileBody(r).slice(0, 300) || 'x';
        status = await raw(gw.port, path, Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerSafe(v)])), body);
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `case ${i}: ${path} ${body.slice(0, 80)}`).toBeLessThan(500);
    }
    expect([...statuses.keys()].every((s) => s >= 200 && s < 500)).toBe(true);
    // The gateway still works afterwards.
    expect((await signed.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'ok', body: 'ok' })).status).toBe(200);
  }, 120_000);
});
