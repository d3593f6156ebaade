import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, type ToolResult } from '../../src/agent/client.js';
import { META_VERSION } from '../../src/gateway/mcp-transport.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { describedTool, type ToolHandler } from '../../src/server/types.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { auditEventOf } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';

const V26 = '2026-07-28';
const ACCEPT = { accept: 'application/json, text/event-stream' } as const;
const ALLOWED_ORIGIN = 'https://console.example';

const decisionEvent = (gw: TestGateway, decisionId: string | null) => auditEventOf(gw.config.audit.file, decisionId);

/**
 * MCP transport rules through the real gateway and the demo service: 2026-07-28 header mirrors are checked against
 * the body (and the tool's listed x-mcp-header parameters) before anything is decided, so the service can never act
 * on a header the policy did not judge; versions, Origin and the trace parent in params._meta.
 */
describe('MCP transport rules at the gateway', () => {
  let gw: TestGateway;
  let telemetry: Telemetry;
  const spans = new InMemorySpanExporter();
  const demo = exampleTools();
  let runs = 0;
  const read = demo.tools['memory.read']!;
  const tools: Record<string, ToolHandler> = { ...demo.tools, 'memory.read': describedTool((args, req) => ((runs += 1), read(args, req)), read.description!) };
  let rpc = 100;
  const client = () => new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['room-assistant'] });
  const post = (body: Record<string, unknown>, headers: Record<string, string>) => client().send('POST', '/mcp', body, { ...ACCEPT, ...headers });
  const modernCall = (args: Record<string, unknown>, headers: Record<string, string>, meta: Record<string, unknown> = {}): Promise<ToolResult> =>
    post(
      { jsonrpc: '2.0', id: (rpc += 1), method: 'tools/call', params: { name: 'memory.read', arguments: args, _meta: { [META_VERSION]: V26, ...meta } } },
      { 'MCP-Protocol-Version': V26, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'memory.read', ...headers },
    );
  const args = { scope: 'room', room: 'room-42', on_behalf_of: 'alice' };

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-mcp-transport', spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    gw = await startTestGateway({ TOOLGATE_MCP_ALLOWED_ORIGINS: ALLOWED_ORIGIN }, { tools });
    // The gateway learns the tool's x-mcp-header parameters from the list it passes.
    const listed = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [META_VERSION]: V26 } } }, { 'MCP-Protocol-Version': V26, 'Mcp-Method': 'tools/list' });
    expect(listed.status).toBe(200);
  });
  afterAll(async () => {
    await gw?.close();
    await telemetry?.shutdown();
  });

  it('a 2026-07-28 call whose headers mirror its body is decided and runs', async () => {
    const before = runs;
    const res = await modernCall(args, { 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-42' });
    expect(res.status).toBe(200);
    expect((res.body as { result: { isError?: boolean } }).result.isError).toBe(false);
    expect(runs).toBe(before + 1);
  });

  it.each([
    ['Mcp-Name names another tool than the body', { 'Mcp-Name': 'memory.write', 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-42' }],
    ['a mirrored parameter says another room than the body', { 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-1' }],
    ['a mirrored parameter is left out', { 'Mcp-Param-Scope': 'room' }],
    ['a header mirrors a parameter the tool does not declare', { 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-42', 'Mcp-Param-Owner': 'bob' }],
  ])('refuses 400 with JSON-RPC -32020 when %s; nothing runs and the refusal is audited', async (_what, headers) => {
    const before = runs;
    const res = await modernCall(args, headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ jsonrpc: '2.0', error: { code: -32020, data: { reason: 'mcp_header_mismatch' } } });
    expect(runs).toBe(before);
    const event = await decisionEvent(gw, res.decisionId);
    assertAuditEvent(event);
    expect(event).toMatchObject({ outcome: 'invalid', reasons: [{ code: 'mcp_header_mismatch' }], agent: { id: 'room-assistant' } });
  });

  it('refuses a protocol version it does not speak with -32022 and the versions it does', async () => {
    const res = await post({ jsonrpc: '2.0', id: 7, method: 'tools/list' }, { 'MCP-Protocol-Version': '2099-01-01' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: -32022, data: { reason: 'mcp_protocol_version_unsupported', requested: '2099-01-01', supported: expect.arrayContaining([V26, '2025-11-25']) } } });
  });

  it('refuses a browser Origin it was not told about with 403, and lets the configured one in', async () => {
    const evil = await post({ jsonrpc: '2.0', id: 8, method: 'tools/list' }, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.body).toMatchObject({ error: { code: -32080, data: { reason: 'mcp_origin_forbidden' } } });
    const allowed = await post({ jsonrpc: '2.0', id: 9, method: 'tools/list' }, { origin: ALLOWED_ORIGIN });
    expect(allowed.status).toBe(200);
  });

  it('takes the trace parent from params._meta.traceparent, over the HTTP header', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await modernCall(args, { 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-42', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(res.status).toBe(200);
    const event = await decisionEvent(gw, res.decisionId);
    expect(event.trace_id).toBe(traceId);
    // The decision span is the child of the call's own context, and still begins when the request began.
    const span = spans.getFinishedSpans().find((s) => s.attributes['toolgate.decision.id'] === res.decisionId)!;
    expect(span.name).toBe('authorize memory.read');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    // A malformed one in _meta leaves the header's in place.
    const bad = await modernCall(args, { 'Mcp-Param-Scope': 'room', 'Mcp-Param-Room': 'room-42', traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` }, { traceparent: 'not-a-traceparent' });
    expect((await decisionEvent(gw, bad.decisionId)).trace_id).toBe('1'.repeat(32));
  });
});
