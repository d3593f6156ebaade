import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolDescription } from '../../src/server/types.js';
import { auditEventOf } from '../helpers/audit.js';
import { agent, expectOutcome, person } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' } as const;
const MCP_HEADERS = { accept: 'application/json, text/event-stream' } as const;
type Listed = { name: string } & Record<string, unknown>;

const decisionEvent = (gw: TestGateway, decisionId: string | null) => auditEventOf(gw.config.audit.file, decisionId);

const digest = (definition: unknown) => createHash('sha256').update(canonicalJson(definition)).digest('hex');

/**
 * Tool annotations from the service's tools/list reach the policy (input.tool) and the audit event, through the real
 * demo gateway and its MCP service: the demo policy asks a person for a tool its service marks destructive, binds
 * the approval to the definition it was granted for, and never lets a missing annotation or the HTTP route loosen.
 */
describe('MCP tool annotations as policy input', () => {
  let gw: TestGateway;
  const demo = exampleTools();
  const forget = demo.tools['memory.forget']! as { description?: ToolDescription };
  const original = forget.description!;
  const lister = () => new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['room-assistant'] });
  const list = async (): Promise<Listed[]> => {
    const res = await lister().send('POST', '/mcp', LIST, MCP_HEADERS);
    expect(res.status).toBe(200);
    return (res.body as { result: { tools: Listed[] } }).result.tools;
  };
  const room = () => agent(gw.url, gw.agents.keys['room-assistant']);
  const approver = () => person(gw.url, gw.agents.keys['finance-lead']);

  beforeAll(async () => {
    gw = await startTestGateway({}, { tools: demo.tools });
  });
  afterAll(() => gw?.close());

  it('a tool called before its agent listed it is judged with the spec defaults (another agent\'s list does not count): destructive, so it needs a person', async () => {
    // The advisor's list passes through the gateway too (its definitions count only for the advisor).
    const advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
    expect((await advisor.send('POST', '/mcp', LIST, MCP_HEADERS)).status).toBe(200);
    const o = await room()('memory.forget', { id: 'mem_1' }, 'mcp');
    expectOutcome(o, 202, ['tool_destructive']);
    const event = await decisionEvent(gw, o.decisionId);
    assertAuditEvent(event);
    expect(event.tool).toEqual({ name: 'memory.forget', protocol: 'mcp', definition_sha256: null });
    const input = event.input as { tool: Record<string, unknown> };
    expect(input.tool).toMatchObject({ definition_known: false, annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } });
  });

  it('after a tools/list the policy sees the listed annotations and the definition digest, and the event records it', async () => {
    const listed = (await list()).find((t) => t.name === 'memory.forget')!;
    expect(listed.annotations).toMatchObject({ destructiveHint: true });
    const o = await room()('memory.forget', { id: 'mem_2' }, 'mcp');
    expectOutcome(o, 202, ['tool_destructive']);
    const event = await decisionEvent(gw, o.decisionId);
    assertAuditEvent(event);
    expect(event.tool).toEqual({ name: 'memory.forget', protocol: 'mcp', definition_sha256: digest(listed) });
    expect((event.input as { tool: Record<string, unknown> }).tool).toMatchObject({
      definition_known: true,
      definition_sha256: digest(listed),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    });
  });

  it('a tool its service marks harmless runs by its own rules; a plain HTTP call of an unreviewed tool still needs a person', async () => {
    await list();
    const read = await room()('memory.read', { scope: 'room', room: 'r1', on_behalf_of: 'alice' }, 'mcp');
    expectOutcome(read, 200);
    const readEvent = await decisionEvent(gw, read.decisionId);
    expect((readEvent.input as { tool: { annotations: Record<string, boolean> } }).tool.annotations.readOnlyHint).toBe(true);
    const http = await room()('memory.forget', { id: 'mem_3' }, 'http');
    expectOutcome(http, 202, ['tool_destructive']);
    const httpEvent = await decisionEvent(gw, http.decisionId);
    expect(httpEvent.tool).toEqual({ name: 'memory.forget', protocol: 'http' });
  });

  it('an approval granted for one definition does not run the tool once the service changed it', async () => {
    await list();
    const args = { id: 'mem_4' };
    const asked = await room()('memory.forget', args, 'mcp');
    expectOutcome(asked, 202, ['tool_destructive']);
    const approved = await approver()('POST', `/approvals/${asked.approvalId}/approve`);
    expect(approved.status).toBe(200);

    // The service changes the tool (now it also drops backups) while the approval waits; the next list shows it.
    (forget as { description?: ToolDescription }).description = { ...original, description: 'Deletes one stored memory and its backups.' };
    try {
      await list();
      const retried = await room()('memory.forget', args, 'mcp', { 'toolgate-approval': asked.approvalId! });
      expectOutcome(retried, 403, ['approval_definition_changed']);
      expect(demo.memories).toEqual([]); // nothing ran
    } finally {
      (forget as { description?: ToolDescription }).description = original;
    }
    // Back to the definition it was approved for: the approval was not spent by the refusal and now runs the call once.
    await list();
    const ran = await room()('memory.forget', args, 'mcp', { 'toolgate-approval': asked.approvalId! });
    expectOutcome(ran, 200);
    expect(ran.result).toEqual({ forgotten: false });
    const again = await room()('memory.forget', args, 'mcp', { 'toolgate-approval': asked.approvalId! });
    expectOutcome(again, 403, ['approval_used']);
  });

  it('the same approval presented for other arguments is a mismatch, not a definition change', async () => {
    await list();
    const asked = await room()('memory.forget', { id: 'mem_5' }, 'mcp');
    expectOutcome(asked, 202);
    await approver()('POST', `/approvals/${asked.approvalId}/approve`);
    const other = await room()('memory.forget', { id: 'mem_6' }, 'mcp', { 'toolgate-approval': asked.approvalId! });
    expectOutcome(other, 403, ['approval_mismatch']);
  });
});
