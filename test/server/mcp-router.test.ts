import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpRouter } from '../../src/server/mcp-router.js';
import { listen, type Listening } from '../helpers/listen.js';

describe('the example MCP server', () => {
  let server: Listening;
  beforeAll(async () => {
    const app = express();
    app.use('/mcp', mcpRouter({ 'echo.say': async (args) => ({ said: args }) }));
    server = await listen(app);
  });
  afterAll(() => server?.close());

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.origin}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, session: res.headers.get('mcp-session-id'), body: res.status === 202 ? undefined : ((await res.json()) as Record<string, unknown>) };
  };

  it('answers ping, which the gateway lets through by default', async () => {
    expect(await post({ jsonrpc: '2.0', id: 5, method: 'ping' })).toMatchObject({ status: 200, body: { jsonrpc: '2.0', id: 5, result: {} } });
  });

  it('keeps the 10,000 newest sessions: a client opening them in a loop cannot grow it without bound', async () => {
    const first = (await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })).session!;
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': first })).status).toBe(200);
    for (let i = 0; i < 10_000; i++) await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    expect((await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-session-id': first })).status).toBe(404);
  }, 120_000);
});
