import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  EmptyResultSchema,
  isInitializeRequest,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import { approvalsRouter, MemoryApprovalStore } from '../../src/approvals/index.js';
import type { DemoAgents } from '../../src/demo/agents.js';
import type { Jwk } from '../../src/identity/jwk.js';
import { toolgate, type Toolgate } from '../../src/gateway/middleware.js';
import { createVerifier } from '../../src/identity/index.js';
import { readAuditFile } from '../helpers/audit.js';
import { MARKET_OPEN, person } from '../helpers/calls.js';
import { POLICY_BUNDLE, scratchGateway } from '../helpers/gateway.js';
import { listen, type Listening } from '../helpers/listen.js';

const TOOLS = [
  { name: 'trade.suggest', description: 'Suggest a trade', inputSchema: { type: 'object' as const } },
  { name: 'trade.place', description: 'Place an order', inputSchema: { type: 'object' as const } },
  { name: 'email.read_inbox', description: 'Read the inbox', inputSchema: { type: 'object' as const } },
  { name: 'email.send', description: 'Send an e-mail', inputSchema: { type: 'object' as const } },
];

/** What the upstream MCP server (the official SDK's) saw: the calls that reached it, with their protocol header. */
interface Upstream {
  readonly calls: { tool: string; protocolVersion: string | undefined }[];
  readonly servers: Server[];
}

/**
 * The official SDK's server over Streamable HTTP, one Server per session. trade.suggest streams while it runs: a
 * log notification, a ping to the client (whose answer the client POSTs back through the gateway), then its result.
 */
function sdkServer(upstream: Upstream) {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const open = () => {
    const server = new Server({ name: 'sdk-upstream', version: '1.0.0' }, { capabilities: { tools: { listChanged: true }, logging: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      upstream.calls.push({ tool: request.params.name, protocolVersion: extra.requestInfo?.headers['mcp-protocol-version'] as string | undefined });
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `running ${request.params.name}` } });
      const pong = await extra.sendRequest({ method: 'ping' }, EmptyResultSchema);
      const result = { tool: request.params.name, args: request.params.arguments ?? {}, pinged: pong !== undefined };
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    });
    upstream.servers.push(server);
    return server;
  };
  return async (req: Request, res: Response) => {
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? transports.get(sid) : undefined;
    if (!transport && req.method === 'POST' && isInitializeRequest(req.body)) {
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void transports.set(id, created) });
      transport = created;
      await open().connect(transport);
    }
    if (!transport) return void res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } });
    await transport.handleRequest(req, res, req.body);
  };
}

/** A fetch that signs as `key`, asks for `version` in initialize, and adds `headers` (mutable) to every request. */
function agentFetch(key: Jwk, version: string, seen: string[], headers: Record<string, string> = {}): typeof fetch {
  const signed = createSignedFetch({ privateJwk: key });
  return async (input, init = {}) => {
    let body = init.body;
    if (typeof body === 'string' && body.includes('"initialize"')) {
      const message = JSON.parse(body) as { method?: string; params?: { protocolVersion?: string } };
      if (message.method === 'initialize' && message.params) message.params.protocolVersion = version;
      body = JSON.stringify(message);
    }
    const sent = new Headers(init.headers);
    for (const [k, v] of Object.entries(headers)) sent.set(k, v);
    const res = await signed(input as string | URL, { ...init, headers: sent, ...(body !== undefined ? { body } : {}) });
    seen.push(`${init.method ?? 'GET'} ${res.status} ${res.headers.get('content-type') ?? ''}`);
    return res;
  };
}

describe('the official MCP SDK as client and as upstream server, through the gateway', () => {
  const scratch = scratchGateway('toolgate-mcp-sdk-');
  const upstream: Upstream = { calls: [], servers: [] };
  let gate: Toolgate;
  let server: Listening;
  const opened: Client[] = [];
  beforeAll(async () => {
    const approvals = new MemoryApprovalStore();
    const verifier = await createVerifier({ jwksFiles: [scratch.agents.jwksFile] });
    gate = toolgate({ policy: { bundle: POLICY_BUNDLE }, verifier, audit: { file: scratch.auditFile, keyFile: scratch.keyFile }, approvals, environment: 'test', now: () => MARKET_OPEN });
    const app = express();
    app.use(approvalsRouter({ store: approvals, verifier, onDecision: (record, approver) => gate.recordApproval(record, approver), now: () => MARKET_OPEN }));
    app.use(gate);
    app.use('/mcp', gate.mcp(sdkServer(upstream)));
    await gate.ready();
    server = await listen(app);
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
    await server?.close();
    await gate?.close();
  });

  async function connect(agent: keyof DemoAgents['keys'], version: string, headers: Record<string, string> = {}) {
    const seen: string[] = [];
    const client = new Client({ name: `sdk-${agent}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`), { fetch: agentFetch(scratch.agents.keys[agent], version, seen, headers) });
    await client.connect(transport);
    opened.push(client);
    return { client, transport, seen };
  }

  describe.each(SUPPORTED_PROTOCOL_VERSIONS)('at protocol revision %s', (version) => {
    it('negotiates the revision, lists the tools and gets the tool-list-changed notification on the session stream', async () => {
      const { client, transport } = await connect('advisor', version);
      expect(transport.protocolVersion).toBe(version);
      const listed = await client.listTools();
      // Filtered per caller (toolgate/visible): the advisor is shown only the tool its policy lets it call.
      expect(listed.tools.map((t) => t.name)).toEqual(['trade.suggest']);
      // A notification the server sends outside any request travels on the GET stream, through the gateway.
      const changed = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      await waitFor(async () => {
        await Promise.all(upstream.servers.map((s) => s.sendToolListChanged().catch(() => undefined)));
        return Promise.race([changed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]);
      });
    });

    it('streams an allowed call (SSE): the log notification, the server\'s ping answered through the gateway, the result', async () => {
      const { client, seen } = await connect('advisor', version);
      const logs: unknown[] = [];
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
      const before = upstream.calls.length;
      const result = (await client.callTool({ name: 'trade.suggest', arguments: { symbol: 'NVDA', side: 'sell', reason: 'over target' } })) as CallToolResult;
      expect(result.isError ?? false).toBe(false);
      expect(result.structuredContent).toMatchObject({ tool: 'trade.suggest', pinged: true });
      expect(logs).toContain('running trade.suggest');
      expect(upstream.calls.slice(before)).toEqual([{ tool: 'trade.suggest', protocolVersion: version }]);
      expect(seen.some((s) => s.startsWith('POST 200 text/event-stream'))).toBe(true);
      // The client's answer to the ping was a signed JSON-RPC response, let through and recorded.
      expect(readAuditFile(scratch.auditFile).some((e) => e.reasons.some((r) => r.code === 'mcp_response') && e.agent?.id === 'advisor')).toBe(true);
    });

    it('hands a policy refusal to the caller as a tool result it can read; the tool never runs', async () => {
      const { client } = await connect('advisor', version);
      const before = upstream.calls.length;
      const result = (await client.callTool({ name: 'trade.place', arguments: { symbol: 'NVDA', side: 'sell', quantity: 1, limit_price: 1, reason: 'r', inputs: ['q'] } })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toMatchObject({ decision: 'deny', decision_id: expect.any(String) });
      expect((result.structuredContent as { reasons: unknown[] }).reasons.length).toBeGreaterThan(0);
      expect(result.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('toolgate refused this call (deny)') });
      expect(upstream.calls.length).toBe(before);
    });

    it('tells the caller an approval is needed (id and expiry), and runs the call once approved', async () => {
      const headers: Record<string, string> = {};
      const { client } = await connect('receipts-bot', version, headers);
      const before = upstream.calls.length;
      const asked = (await client.callTool({ name: 'email.read_inbox', arguments: {} })) as CallToolResult;
      expect(asked.isError).toBe(true);
      const body = asked.structuredContent as { decision: string; approval: { id: string; expires_at: string } };
      expect(body).toMatchObject({ decision: 'approval_required', approval: { id: expect.any(String), expires_at: expect.any(String) } });
      expect(upstream.calls.length).toBe(before);
      const approved = await person(server.origin, scratch.agents.keys['finance-lead'])('POST', `/approvals/${body.approval.id}/approve`);
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      headers['toolgate-approval'] = body.approval.id;
      const done = (await client.callTool({ name: 'email.read_inbox', arguments: {} })) as CallToolResult;
      expect(done.isError ?? false, JSON.stringify(done)).toBe(false);
      expect(upstream.calls.slice(before).map((c) => c.tool)).toEqual(['email.read_inbox']);
    });
  });

  it('refuses an unsigned client with HTTP 401 (the SDK reports it as an error naming the reason)', async () => {
    const client = new Client({ name: 'unsigned', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`)))).rejects.toThrow(/401|signature_missing/);
  });
});

/** Polls `check` until it holds (bounded), instead of sleeping a fixed time. */
async function waitFor(check: () => Promise<boolean>, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) if (await check()) return;
  throw new Error('condition not reached');
}
