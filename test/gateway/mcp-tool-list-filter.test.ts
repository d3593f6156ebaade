import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { auditEventOf } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { buildBundle } from '../policy/bundles.js';

const ALL = Object.keys(exampleTools().tools);
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' } as const;
const MCP_HEADERS = { accept: 'application/json, text/event-stream' } as const;

type ListAnswer = { id: number; result: { tools: { name: string }[] } };

/** One request's audit event of a type (a completion event is recorded once the answer has finished). */
const eventsOf = (gw: TestGateway, decisionId: string | null, type: AuditEvent['type']) => auditEventOf(gw.config.audit.file, decisionId, type);

/** tools/list through the real demo gateway: each agent is shown the tools its policy lets it call. */
describe('MCP tools/list filtered per caller', () => {
  let gw: TestGateway;
  const client = (agent: string) => new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys[agent as keyof typeof gw.agents.keys] });
  const list = async (agent: string) => {
    const res = await client(agent).send('POST', '/mcp', LIST, MCP_HEADERS);
    expect(res.status).toBe(200);
    return { res, names: (res.body as ListAnswer).result.tools.map((t) => t.name) };
  };

  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it.each([
    { agent: 'receipts-bot', sees: ['email.send', 'email.read_inbox'], hidden: ['trade.place', 'trade.suggest'] },
    { agent: 'advisor', sees: ['trade.suggest'], hidden: ['email.send', 'email.read_inbox', 'trade.place'] },
  ])('$agent sees $sees and not $hidden; the completion event lists exactly what was hidden', async ({ agent, sees, hidden }) => {
    const { res, names } = await list(agent);
    expect(names).toEqual(expect.arrayContaining(sees));
    for (const name of hidden) expect(names).not.toContain(name);
    expect((res.body as ListAnswer).id).toBe(1);

    const decision = await eventsOf(gw, res.decisionId, 'decision');
    expect(decision).toMatchObject({ outcome: 'allow', reasons: [{ code: 'mcp_passthrough' }], agent: { id: agent } });
    expect(decision.hidden_tools).toBeUndefined();
    const completion = await eventsOf(gw, res.decisionId, 'completion');
    assertAuditEvent(completion);
    expect(completion.response).toMatchObject({ status: 200 });
    // Hidden and shown together are the service's whole list, each once.
    expect([...completion.hidden_tools!].sort()).toEqual(ALL.filter((n) => !names.includes(n)).sort());
    expect(completion.hidden_tools).toEqual(expect.arrayContaining(hidden));
  });

  it('a hidden tool called directly is still refused by the policy', async () => {
    const { names } = await list('advisor');
    expect(names).not.toContain('email.send');
    const called = await client('advisor').callMcp('email.send', { to: ['accountant@firm.example'], subject: 'x', body: 'y' });
    // An MCP client reads a refusal as a tool result flagged as an error (the tool never ran).
    expect(called.body).toMatchObject({ result: { isError: true } });
    const decision = await eventsOf(gw, called.decisionId, 'decision');
    expect(decision.outcome).toBe('deny');
    expect(decision.reasons.map((r) => r.code)).toContain('tool_not_allowed');
  });
});

describe('MCP tools/list with a bundle that has no toolgate/visible entrypoint', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: buildBundle({ revision: 'decision-only' }) });
  });
  afterAll(() => gw?.close());

  it('passes the list unfiltered (every call is still decided) and records no hidden_tools', async () => {
    const res = await new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor }).send('POST', '/mcp', LIST, MCP_HEADERS);
    expect(res.status).toBe(200);
    expect((res.body as ListAnswer).result.tools.map((t) => t.name).sort()).toEqual([...ALL].sort());
    const completion = await eventsOf(gw, res.decisionId, 'completion');
    expect(completion).not.toHaveProperty('hidden_tools');
  });
});
