import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import { MemoryMcpSessionStore, RedisMcpSessionStore, type McpSessionStore } from '../../src/gateway/mcp-sessions.js';
import { useTestRedis } from '../helpers/redis.js';
import type { Jwk } from '../../src/identity/jwk.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Every method on the MCP endpoint is signed, and a session is used only by the agent that opened it. */
describe('MCP sessions through the gate', () => {
  let gw: TestGateway;
  let asAgent: (key: Jwk) => (method: string, headers?: Record<string, string>, body?: unknown) => Promise<{ status: number; decisionId: string | null; headers: Headers; text: string }>;

  beforeAll(async () => {
    gw = await startTestGateway();
    asAgent = (key) => {
      const signed = createSignedFetch({ privateJwk: key });
      return async (method, headers = {}, body) => {
        const res = await signed(`${gw.url}/mcp`, {
          method,
          headers: { accept: 'application/json, text/event-stream', ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        // An open event stream never ends: read its first chunk only.
        const text = res.headers.get('content-type')?.startsWith('text/event-stream')
          ? new TextDecoder().decode((await res.body!.getReader().read()).value)
          : await res.text();
        if (res.body && !res.bodyUsed) await res.body.cancel().catch(() => undefined);
        return { status: res.status, decisionId: res.headers.get('toolgate-decision-id'), headers: res.headers, text };
      };
    };
  });
  afterAll(() => gw?.close());

  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
  const auditOf = (id: string | null) => readAuditFile(gw.config.audit.file).find((e) => e.decision_id === id);

  it('binds the session to the agent that opened it; another agent and unsigned requests are refused, audited', async () => {
    const advisor = asAgent(gw.agents.keys.advisor);
    const other = asAgent(gw.agents.keys['receipts-bot']);
    const opened = await advisor('POST', {}, initialize);
    expect(opened.status).toBe(200);
    const sid = opened.headers.get('mcp-session-id');
    expect(sid).toBeTruthy();
    expect(auditOf(opened.decisionId)).toMatchObject({ outcome: 'allow', reasons: [{ code: 'mcp_passthrough' }], agent: { id: 'advisor', verified: true } });

    const stream = await advisor('GET', { 'mcp-session-id': sid! });
    expect(stream.status).toBe(200);
    expect(stream.text).toContain('stream open');
    expect(auditOf(stream.decisionId)).toMatchObject({ outcome: 'allow', reasons: [{ code: 'mcp_session_stream' }], request: { method: 'GET', path: '/mcp' } });

    for (const method of ['GET', 'DELETE']) {
      const stolen = await other(method, { 'mcp-session-id': sid! });
      expect(stolen.status, method).toBe(403);
      expect(JSON.parse(stolen.text)).toMatchObject({ error: { data: { reasons: [{ code: 'mcp_session_forbidden' }] } } });
      // The refusal names the verified agent that tried, not an anonymous caller.
      expect(auditOf(stolen.decisionId)).toMatchObject({ outcome: 'deny', agent: { id: 'receipts-bot', verified: true }, request: { method } });

      const unsigned = await fetch(`${gw.url}/mcp`, { method, headers: { 'mcp-session-id': sid! } });
      expect(unsigned.status, method).toBe(401);
      expect(auditOf(unsigned.headers.get('toolgate-decision-id'))).toMatchObject({ outcome: 'unauthenticated' });
    }
    // A JSON-RPC request is answered with a JSON-RPC error the client can read (HTTP 200), still refused.
    const stolenCall = await other('POST', { 'mcp-session-id': sid! }, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(stolenCall.status).toBe(200);
    expect(JSON.parse(stolenCall.text)).toMatchObject({ id: 2, error: { code: -32083, data: { reasons: [{ code: 'mcp_session_forbidden' }] } } });

    // The owner ends it; afterwards nobody can use the id.
    const ended = await advisor('DELETE', { 'mcp-session-id': sid! });
    expect(ended.status).toBe(204);
    const after = await advisor('GET', { 'mcp-session-id': sid! });
    expect(after.status).toBe(404);
    expect(JSON.parse(after.text)).toMatchObject({ error: { data: { reasons: [{ code: 'mcp_session_unknown' }] } } });
    // A JSON-RPC request on the ended session gets MCP's 404 too (the client's cue to initialize again), not a
    // readable 200: neither a list nor a call is answered as if the session were there.
    for (const body of [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'trade.suggest', arguments: {} } }]) {
      const gone = await advisor('POST', { 'mcp-session-id': sid! }, body);
      expect(gone.status, body.method).toBe(404);
      expect(JSON.parse(gone.text), body.method).toMatchObject({ id: body.id, error: { code: -32083, data: { reasons: [{ code: 'mcp_session_unknown' }] } } });
    }
  });

  it('refuses a session id the gateway never saw opened, and malformed ones', async () => {
    const advisor = asAgent(gw.agents.keys.advisor);
    expect((await advisor('GET', { 'mcp-session-id': 'made-up' })).status).toBe(404);
    expect((await advisor('GET', { 'mcp-session-id': 'x'.repeat(300) })).status).toBe(400);
  });

  it('refuses a body on GET and methods the endpoint does not take', async () => {
    const advisor = asAgent(gw.agents.keys.advisor);
    for (const method of ['PUT', 'PATCH']) expect((await advisor(method, {}, { a: 1 })).status, method).toBe(405);
    expect((await fetch(`${gw.url}/mcp`, { method: 'HEAD' })).status).toBe(405);
  });
});

describe('MemoryMcpSessionStore', () => {
  it('keeps the first owner, forgets idle sessions and the least recently used beyond its size', () => {
    const store = new MemoryMcpSessionStore({ maxSessions: 2, idleTtlMs: 1000 });
    expect(store.bind('a', 'agent-1', 0)).toBe(true);
    expect(store.bind('a', 'agent-2', 1)).toBe(false);
    expect(store.owner('a', 2)).toBe('agent-1');
    store.bind('b', 'agent-2', 3);
    expect(store.owner('a', 4)).toBe('agent-1'); // a is now the most recently used
    store.bind('c', 'agent-3', 5);
    expect(store.owner('b', 6)).toBeNull();
    expect(store.owner('a', 7)).toBe('agent-1');
    expect(store.owner('a', 2000)).toBeNull();
    expect(store.size).toBeLessThanOrEqual(2);
  });
});

/** What every session store does, in memory and on real Redis (several gateway instances share the latter). */
describe.each([
  ['memory', async (maxSessionsPerAgent?: number) => ({ a: new MemoryMcpSessionStore({ ...(maxSessionsPerAgent ? { maxSessionsPerAgent } : {}) }), b: null as McpSessionStore | null })],
  ['redis', async (maxSessionsPerAgent?: number) => {
    const redis = sharedRedis();
    const prefix = `${redis.prefix}mcp-${Math.random()}:`;
    const options = { prefix, ...(maxSessionsPerAgent ? { maxSessionsPerAgent } : {}) };
    return { a: new RedisMcpSessionStore({ sendCommand: await redis.sendCommand(), ...options }), b: new RedisMcpSessionStore({ sendCommand: await redis.sendCommand(), ...options }) as McpSessionStore | null };
  }],
] as const)('McpSessionStore contract: %s', (_name, make) => {
  it('keeps at most maxSessionsPerAgent for one agent, its oldest going first, and never another agent\'s', async () => {
    const { a, b } = await make(3);
    const seen = b ?? a; // Redis: what another instance sees once the writes land
    expect(await a.bind('other-agents', 'room-assistant', 0)).toBe(true);
    for (let i = 0; i < 8; i++) expect(await a.bind(`flood-${i}`, 'advisor', i + 1)).toBe(true);
    await expect.poll(() => seen.owner('flood-7', 10)).toBe('advisor');
    await expect.poll(async () => Promise.all([0, 1, 2, 3, 4].map((i) => seen.owner(`flood-${i}`, 10)))).toEqual([null, null, null, null, null]);
    expect(await Promise.all([5, 6, 7].map((i) => seen.owner(`flood-${i}`, 10)))).toEqual(['advisor', 'advisor', 'advisor']);
    expect(await seen.owner('other-agents', 10)).toBe('room-assistant');
  });

  it('binds once, first owner wins, unbind forgets; another instance sees the binding', async () => {
    const { a, b } = await make();
    const sid = `s-${Math.random()}`;
    expect(await a.owner(sid, 0)).toBeNull();
    expect(await a.bind(sid, 'agent-1', 0)).toBe(true);
    expect(await a.owner(sid, 1)).toBe('agent-1');
    expect(await a.bind(sid, 'agent-2', 2)).toBe(false);
    if (b) await expect.poll(() => b.owner(sid, 3)).toBe('agent-1');
    await a.unbind(sid);
    expect(await a.owner(sid, 4)).toBeNull();
    if (b) expect(await b.owner(sid, 5)).toBeNull();
  });

  it('keeps keys bounded whatever the id (hashed), and refuses a second owner from another instance', async () => {
    const { a, b } = await make();
    const sid = 'x'.repeat(256);
    expect(await a.bind(sid, 'agent-1', 0)).toBe(true);
    if (b) {
      await expect.poll(() => b.owner(sid, 1)).toBe('agent-1');
      b.bind(sid, 'agent-2', 2);
      await expect.poll(() => b.owner(sid, 3)).toBe('agent-1');
    }
  });
});

const sharedRedis = useTestRedis();
