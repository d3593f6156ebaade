import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkthrough } from '../../src/demo/walkthrough.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { MARKET_OPEN } from '../helpers/calls.js';
import type { ToolResult } from '../../src/agent/client.js';

/** `make demo`'s walkthrough, run against a gateway at a fixed time in market hours: every step as narrated. */
describe('demo walkthrough', () => {
  let gw: TestGateway;
  let printed = '';
  let results: ToolResult[];
  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
    const out = new Writable({ write: (chunk, _enc, done) => { printed += String(chunk); done(); } });
    results = await walkthrough(gw.url, gw.agents, out);
  });
  afterAll(() => gw?.close());

  it('shows each scenario with the outcomes it narrates', () => {
    expect(results.map((r) => r.status)).toEqual([200, 403, 201, 200, 403, 202, 200, 200, 403, 403, 200, 200, 200, 200, 429, 403, 200, 200, 403, 403, 200, 200, 200, 200, 401]);
    for (const code of ['tool_destructive', 'recipient_not_allowed', 'secret_in_args', 'attachment_unknown', 'subject_sensitive', 'approval_used', 'tool_not_allowed', 'capability_missing', 'cooldown_active', 'order_too_large', 'cross_user_memory', 'label_not_allowed_in_room', 'signature_missing']) {
      expect(printed).toContain(code);
    }
    // Over MCP the refusal is a tool result the client reads (HTTP 200, isError) carrying the decision.
    expect(results[12]!.body).toMatchObject({ jsonrpc: '2.0', result: { isError: true, structuredContent: { decision: 'deny' } } });
    expect(printed).toContain('tool result isError: deny');
    expect(printed).toContain('[REDACTED:email');
    // Each agent is shown only the tools it could ever call; the destructive tool asks for a person, then runs once.
    expect(printed).toContain('advisor lists the MCP tools (filtered per caller: only what the policy could ever let it call)\n   -> 200 tools/list shows trade.suggest\n');
    expect(printed).toContain('tools/list shows memory.write, memory.read, memory.forget (destructive)');
    expect(results[21]!.body).toMatchObject({ result: { isError: true, structuredContent: { decision: 'approval_required', reasons: [{ code: 'tool_destructive' }] } } });
    expect(results[23]!.body).toMatchObject({ result: { isError: false, structuredContent: { forgotten: false } } });
    expect(printed).not.toContain('jane.doe@example.com for the Q4');
  });
});
