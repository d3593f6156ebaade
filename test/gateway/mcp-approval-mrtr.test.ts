import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, type ToolResult } from '../../src/agent/client.js';
import { RequestStateSealer } from '../../src/gateway/mcp-approval.js';
import { META_VERSION } from '../../src/gateway/mcp-transport.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { describedTool, type ToolHandler } from '../../src/server/types.js';
import { auditEventOf } from '../helpers/audit.js';
import { person } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const V26 = '2026-07-28';
const CAPS = 'io.modelcontextprotocol/clientCapabilities';
type InputRequired = { resultType: string; inputRequests: Record<string, { method: string; params: { mode: string; url: string; message: string } }>; requestState: string };

/**
 * Approvals through MCP 2026-07-28 multi-round-trip requests, through the real gateway: a call that needs a person
 * is answered with an InputRequiredResult (URL elicitation to the approval, sealed requestState); the retry with
 * the state runs once approved; a state is accepted once, only for its own call, and never reaches the service.
 */
describe('MCP approvals as InputRequiredResult (2026-07-28)', () => {
  let gw: TestGateway;
  const demo = exampleTools();
  const seen: unknown[] = [];
  const forget = demo.tools['memory.forget']!;
  const tools: Record<string, ToolHandler> = {
    ...demo.tools,
    'memory.forget': describedTool((args, req) => (seen.push(req.body), forget(args, req)), forget.description!),
  };
  let rpc = 0;
  const call = (agent: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}, caps: Record<string, unknown> = { elicitation: { url: {} } }): Promise<ToolResult> =>
    new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys[agent as 'room-assistant'] }).send(
      'POST',
      '/mcp',
      { jsonrpc: '2.0', id: (rpc += 1), method: 'tools/call', params: { name: 'memory.forget', arguments: args, _meta: { [META_VERSION]: V26, [CAPS]: caps }, ...extra } },
      { accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V26, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'memory.forget' },
    );
  const inputRequired = (res: ToolResult): InputRequired => {
    expect(res.status).toBe(200);
    const result = (res.body as { result: InputRequired }).result;
    expect(result.resultType).toBe('input_required');
    return result;
  };
  const approvalOf = (r: InputRequired) => decodeURIComponent(/#pending\/(.+)$/.exec(r.inputRequests['toolgate.approval']!.params.url)![1]!);

  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_PUBLIC_URL: 'https://gateway.example' }, { tools });
  });
  afterAll(() => gw?.close());

  it('asks for the approval by URL, keeps asking while it waits, and runs the retry once approved, once', async () => {
    const args = { id: 'mem_1' };
    const first = await call('room-assistant', args);
    const asked = inputRequired(first);
    const request = asked.inputRequests['toolgate.approval']!;
    expect(request).toMatchObject({ method: 'elicitation/create', params: { mode: 'url' } });
    const id = approvalOf(asked);
    expect(request.params.url).toBe(`https://gateway.example/console/#pending/${id}`);
    expect(await auditEventOf(gw.config.audit.file, first.decisionId)).toMatchObject({ outcome: 'approval_required' });

    // Back before anyone decided: sent to the same approval again, with a fresh state; the used one is spent.
    const again = inputRequired(await call('room-assistant', args, { requestState: asked.requestState, inputResponses: { 'toolgate.approval': { action: 'accept' } } }));
    expect(approvalOf(again)).toBe(id);
    expect(again.requestState).not.toBe(asked.requestState);
    const replay = await call('room-assistant', args, { requestState: asked.requestState });
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({ error: { data: { reason: 'mcp_request_state_invalid' } } });

    expect((await person(gw.url, gw.agents.keys['finance-lead'])('POST', `/approvals/${id}/approve`)).status).toBe(200);
    const ran = await call('room-assistant', args, { requestState: again.requestState, inputResponses: { 'toolgate.approval': { action: 'accept' } } });
    expect(ran.status).toBe(200);
    expect((ran.body as { result: { isError: boolean; structuredContent: unknown } }).result).toMatchObject({ isError: false, structuredContent: { forgotten: false } });
    // The service saw the call, never the gateway's round trip.
    const body = seen.at(-1) as { params: Record<string, unknown> };
    expect(body.params.requestState).toBeUndefined();
    expect(body.params.inputResponses).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it('refuses a state that was altered, or presented for other arguments or by another agent', async () => {
    const asked = inputRequired(await call('room-assistant', { id: 'mem_2' }));
    const state = asked.requestState;
    const flipped = `${state.slice(0, 20)}${state[20] === 'A' ? 'B' : 'A'}${state.slice(21)}`;
    for (const [agent, args, s] of [
      ['room-assistant', { id: 'mem_2' }, flipped],
      ['room-assistant', { id: 'mem_3' }, state],
      ['room-assistant', { id: 'mem_2' }, 'x'.repeat(5000)],
      ['receipts-bot', { id: 'mem_2' }, state],
    ] as const) {
      const res = await call(agent, args, { requestState: s });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ error: { code: -32600, data: { reason: 'mcp_request_state_invalid' } } });
    }
    expect(seen).toHaveLength(1);
  });

  it('a client that did not declare URL elicitation gets the approval as a readable tool result', async () => {
    const res = await call('room-assistant', { id: 'mem_4' }, {}, {});
    expect(res.status).toBe(200);
    expect((res.body as { result: { isError: boolean; structuredContent: { decision: string; approval: { id: string } } } }).result).toMatchObject({
      isError: true,
      structuredContent: { decision: 'approval_required', approval: { id: expect.stringMatching(/^apr_/) } },
    });
  });
});

describe('request state sealing', () => {
  const call = { agent: 'a', tool: 't', binding: 'b' };
  it('opens what it sealed once, before expiry, for the same call only; another key cannot open it', () => {
    const sealer = new RequestStateSealer();
    const state = sealer.seal({ ...call, approval: 'apr_1', exp: 2_000 });
    expect(() => sealer.open(state, { ...call, binding: 'c' }, 1_000)).toThrow(/another agent, tool or arguments/);
    expect(() => sealer.open(state, call, 2_000)).toThrow(/expired/);
    expect(() => new RequestStateSealer().open(state, call, 1_000)).toThrow(/not one this gateway issued/);
    expect(sealer.open(state, call, 1_000).approval).toBe('apr_1');
    expect(() => sealer.open(state, call, 1_000)).toThrow(/already used/);
  });

  it('bounds the round trips one agent holds open, so its flood never refuses another agent; they free as they expire', () => {
    const sealer = new RequestStateSealer(undefined, 10, 3);
    const flooder = { ...call, agent: 'flooder' };
    const open = (c: typeof call, exp: number, now = 1_000) => sealer.open(sealer.seal({ ...c, approval: 'apr_x', exp }), c, now);
    for (let i = 0; i < 3; i++) open(flooder, 5_000);
    expect(() => open(flooder, 5_000)).toThrow(/Agent flooder has 3 approval round trips open, the most one agent may/);
    for (let i = 0; i < 3; i++) expect(open({ ...call, agent: `victim-${i}` }, 9_000).agent).toBe(`victim-${i}`);
    expect(open(flooder, 9_000, 5_000).agent).toBe('flooder'); // the first three expired at 5,000
    // The bound of all: reached only by many agents together.
    for (let i = 0; i < 6; i++) open({ ...call, agent: `many-${i}` }, 9_000, 5_000);
    expect(() => open({ ...call, agent: 'late' }, 9_000, 5_000)).toThrow(/too many open approval round trips right now; each frees when its approval expires/);
  });
});

/**
 * Approvals through MCP 2025-11-25 URL-mode elicitation: a session opened with capabilities.elicitation.url gets the
 * spec's -32042 error pointing at the approval; its retry of the same call (nothing added) runs once approved, once.
 */
describe('MCP approvals as URL elicitation (2025-11-25)', () => {
  let gw: TestGateway;
  let rpc = 0;
  const V25 = '2025-11-25';
  const client = () => new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['room-assistant'] });
  const headers = (session?: string) => ({ accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': V25, ...(session ? { 'mcp-session-id': session } : {}) });
  const open = async (capabilities: Record<string, unknown>): Promise<string> => {
    const res = await client().send('POST', '/mcp', { jsonrpc: '2.0', id: (rpc += 1), method: 'initialize', params: { protocolVersion: V25, capabilities, clientInfo: { name: 't', version: '1' } } }, headers());
    expect(res.status).toBe(200);
    return res.headers.get('mcp-session-id')!;
  };
  const forget = (session: string, args: Record<string, unknown>) =>
    client().send('POST', '/mcp', { jsonrpc: '2.0', id: (rpc += 1), method: 'tools/call', params: { name: 'memory.forget', arguments: args } }, headers(session));
  type Elicited = { error: { code: number; data: { elicitations: { mode: string; elicitationId: string; url: string }[]; decision: string } } };

  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_PUBLIC_URL: 'https://gateway.example' });
  });
  afterAll(() => gw?.close());

  it('sends the user to the approval with -32042; the plain retry runs once approved, and only once', async () => {
    const session = await open({ elicitation: { form: {}, url: {} } });
    const args = { id: 'mem_e1' };
    const first = await forget(session, args);
    expect(first.status).toBe(200);
    const error = (first.body as Elicited).error;
    expect(error.code).toBe(-32042);
    const [elicitation] = error.data.elicitations;
    expect(elicitation).toMatchObject({ mode: 'url', elicitationId: expect.stringMatching(/^apr_/) });
    expect(elicitation!.url).toBe(`https://gateway.example/console/#pending/${elicitation!.elicitationId}`);
    expect(error.data.decision).toBe('approval_required');

    // Retried before anyone decided: the same approval again.
    const waiting = (await forget(session, args)).body as Elicited;
    expect(waiting.error.data.elicitations[0]!.elicitationId).toBe(elicitation!.elicitationId);

    expect((await person(gw.url, gw.agents.keys['finance-lead'])('POST', `/approvals/${elicitation!.elicitationId}/approve`)).status).toBe(200);
    const ran = await forget(session, args);
    expect((ran.body as { result: { isError: boolean } }).result.isError).toBe(false);
    // The approval covered one call: the next identical call asks for a new one.
    const next = (await forget(session, args)).body as Elicited;
    expect(next.error.code).toBe(-32042);
    expect(next.error.data.elicitations[0]!.elicitationId).not.toBe(elicitation!.elicitationId);
  });

  it('a session that did not declare URL elicitation, or another session, gets the readable tool result', async () => {
    const plain = await open({ elicitation: {} });
    const res = await forget(plain, { id: 'mem_e2' });
    expect((res.body as { result: { isError: boolean; structuredContent: { decision: string } } }).result).toMatchObject({ isError: true, structuredContent: { decision: 'approval_required' } });
  });
});
