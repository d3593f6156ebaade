import type { Writable } from 'node:stream';
import { AgentClient, type ToolResult } from '../agent/client.js';
import type { DemoAgents } from './agents.js';

type Body = Record<string, unknown> | null;

const LIST = { jsonrpc: '2.0', id: 'list', method: 'tools/list' } as const;
const MCP_ACCEPT = { accept: 'application/json, text/event-stream' } as const;

/** The decision body: the answer itself over HTTP; over MCP a JSON-RPC error's data or a refused tool result's structured content. */
function decisionOf(b: Body): Body {
  if (!(b && 'jsonrpc' in b)) return b;
  if (b.error) return (b.error as { data?: Body }).data ?? null;
  const result = b.result as { isError?: boolean; structuredContent?: Body } | undefined;
  return result?.isError ? (result.structuredContent ?? null) : b;
}

function reasonsOf(b: Body): { code: string; message: string }[] {
  return ((decisionOf(b)?.reasons as { code: string; message: string }[] | undefined) ?? []).filter((r) => r && typeof r.code === 'string');
}

function approvalIdOf(r: ToolResult): string | undefined {
  return (decisionOf(r.body as Body)?.approval as { id?: string } | undefined)?.id;
}

/** One line per outcome, the way an agent developer reads it. */
function summarize(r: ToolResult): string {
  const b = r.body as Body;
  const reasons = reasonsOf(b);
  const list = reasons.map((x) => `\n       - ${x.code}: ${x.message}`).join('');
  if (b && 'jsonrpc' in b && b.error) {
    const e = b.error as { code: number };
    return `${r.status} JSON-RPC error ${e.code}${list}`;
  }
  const refused = b && 'jsonrpc' in b ? decisionOf(b) : null;
  if (refused && b !== refused) return `${r.status} tool result isError: ${String(refused.decision)}${list}`;
  if (r.status === 401) return `401 ${String(b?.reason)}: ${String(b?.message ?? '')}`;
  if (r.status === 403) return `403 deny${list}`;
  if (r.status === 429) return `429 ${reasons[0]?.code ?? 'limited'} (Retry-After: ${r.headers.get('retry-after')} s)${list}`;
  if (r.status === 202) return `202 approval_required, approval ${approvalIdOf(r)}${list}`;
  const tools = b && 'jsonrpc' in b ? (b.result as { tools?: { name: string; annotations?: Record<string, boolean> }[] } | undefined)?.tools : undefined;
  if (tools) return `${r.status} tools/list shows ${tools.map((t) => `${t.name}${t.annotations?.destructiveHint && !t.annotations.readOnlyHint ? ' (destructive)' : ''}`).join(', ')}`;
  const shown = JSON.stringify(b && 'jsonrpc' in b ? (b.result as { structuredContent?: unknown })?.structuredContent : b);
  return `${r.status} ${shown.length > 160 ? `${shown.slice(0, 157)}...` : shown}`;
}

/**
 * The scripted session `make demo` prints: the seed post's three scenarios through the gateway, allowed and
 * refused calls with their reasons, a human approval, MCP tool lists filtered per caller, an approval the tool's
 * own annotations ask for, and an unsigned call.
 */
export async function walkthrough(baseUrl: string, agents: DemoAgents, out: Writable): Promise<ToolResult[]> {
  const as = (id: keyof DemoAgents['keys']) => new AgentClient({ baseUrl, privateJwk: agents.keys[id] });
  const receipts = as('receipts-bot');
  const advisor = as('advisor');
  const rebalancer = as('rebalancer');
  const room = as('room-assistant');
  const alice = as('alice');
  const financeLead = as('finance-lead');
  const unsigned = new AgentClient({ baseUrl });
  const results: ToolResult[] = [];
  let n = 0;
  const step = async (title: string, run: () => Promise<ToolResult>): Promise<ToolResult> => {
    const r = await run();
    results.push(r);
    out.write(`\n${++n}. ${title}\n   -> ${summarize(r)}\n${r.decisionId ? `      decision ${r.decisionId}\n` : ''}`);
    return r;
  };
  const section = (title: string) => out.write(`\n== ${title} ==\n`);
  const accountant = 'accountant@ledger-partners.example';

  out.write(`\ntoolgate demo walkthrough against ${baseUrl}\n`);

  section('A. Receipts to the accountant (receipts-bot)');
  await step('receipts-bot emails the accountant (allowed)', () =>
    receipts.callTool('email.send', { to: [accountant], subject: 'Receipts for November', body: 'Monthly receipts attached.' }));
  await step('receipts-bot emails an outsider and leaks a key (denied, with every reason)', () =>
    receipts.callTool('email.send', { to: ['someone@elsewhere.example'], subject: 'Receipts', body: 'also my key AKIAIOSFODNN7EXAMPLE' }));
  const upload = await step('alice (a person) uploads a receipt', () => alice.send('POST', '/uploads', 'PDF-1.7 receipt: 42.00 EUR', { 'upload-filename': 'receipt.pdf' }));
  const uploadId = (upload.body as { id?: string }).id ?? 'upl_missing';
  await step('receipts-bot sends it as an attachment (allowed: a human uploaded it minutes ago)', () =>
    receipts.callTool('email.send', { to: [accountant], subject: 'Receipt', body: 'One more receipt.', attachments: [uploadId] }));
  await step('receipts-bot attaches a file no human uploaded (denied)', () =>
    receipts.callTool('email.send', { to: [accountant], subject: 'Receipt', body: 'x', attachments: ['upl_from_the_inbox'] }));
  const invoice = { to: [accountant], subject: 'Invoice and tax summary', body: 'Please file.' };
  const asked = await step('receipts-bot sends an invoice (a human must approve)', () => receipts.callTool('email.send', invoice));
  const approvalId = approvalIdOf(asked);
  if (approvalId) {
    await step('finance-lead approves it through the approvals API', () => financeLead.send('POST', `/approvals/${approvalId}/approve`, { comment: 'ok, November invoice' }));
    await step('receipts-bot retries with Toolgate-Approval (allowed, once)', () => receipts.callTool('email.send', invoice, { 'toolgate-approval': approvalId }));
    await step('receipts-bot reuses the approval (denied: single use)', () => receipts.callTool('email.send', invoice, { 'toolgate-approval': approvalId }));
  }
  await step('receipts-bot tries to place a trade, a tool it does not hold (denied)', () =>
    receipts.callTool('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 5, limit_price: 100 }));

  section('B. Rebalancing rules (advisor, rebalancer)');
  await step('advisor lists the MCP tools (filtered per caller: only what the policy could ever let it call)', () => advisor.send('POST', '/mcp', LIST, MCP_ACCEPT));
  await step('advisor suggests trimming NVDA over MCP (allowed: advisory)', () =>
    advisor.callMcp('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'NVDA is 11% of the portfolio; target 7%' }));
  await step('advisor tries to place the trade over MCP (refused: a tool result with isError and the decision)', () =>
    advisor.callMcp('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 5, limit_price: 100, reason: 'trim', inputs: ['quote:NVDA'] }));
  const trade = { symbol: 'NVDA', side: 'sell', quantity: 10, limit_price: 120, reason: 'NVDA above 10% of the portfolio; trim to 7%', inputs: ['quote:NVDA', 'rule:nvda-max-10pct'] };
  await step('rebalancer places a small order (allowed in market hours and the paper/prod environment; otherwise refused)', () => rebalancer.callTool('trade.place', trade));
  await step('rebalancer places a second order at once (cooldown, or the same refusal)', () => rebalancer.callTool('trade.place', trade));
  await step('rebalancer places an order above the per-order maximum (denied)', () => rebalancer.callTool('trade.place', { ...trade, quantity: 1000 }));

  section('C. Multi-user context (room-assistant)');
  await step('room-assistant shares a note with PII into room r1 (allowed; the email address is redacted)', () =>
    room.callTool('memory.write', { scope: 'room', room: 'r1', on_behalf_of: 'u1', label: 'internal', content: 'Ask jane.doe@example.com for the Q4 numbers', retention_days: 30 }));
  await step('room-assistant reads room r1 (the tool only ever saw the redacted text)', () =>
    room.callTool('memory.read', { scope: 'room', room: 'r1', on_behalf_of: 'u1', into_room: 'r1' }));
  await step("room-assistant recalls u2's private memory for u1 (denied: no cross-user recall)", () =>
    room.callTool('memory.read', { scope: 'user', owner: 'u2', on_behalf_of: 'u1' }));
  await step('room-assistant writes secret data into the room (denied)', () =>
    room.callTool('memory.write', { scope: 'room', room: 'r1', on_behalf_of: 'u1', label: 'secret', content: 'salary bands', retention_days: 7 }));

  await step("room-assistant lists its MCP tools (the service's annotations: memory.forget is destructive)", () => room.send('POST', '/mcp', LIST, MCP_ACCEPT));
  const forget = { id: 'mem_demo' };
  const forgetting = await step('room-assistant forgets a memory over MCP (a person must approve: the tool is destructive by its annotations)', () => room.callMcp('memory.forget', forget));
  const forgetApproval = approvalIdOf(forgetting);
  if (forgetApproval) {
    await step('finance-lead approves it', () => financeLead.send('POST', `/approvals/${forgetApproval}/approve`, { comment: 'fine, stale note' }));
    await step('room-assistant retries with Toolgate-Approval (allowed, once)', () => room.callMcp('memory.forget', forget, { 'toolgate-approval': forgetApproval }));
  }

  section('Identity');
  await step('an unsigned caller tries to send email (rejected: no identity)', () =>
    unsigned.callTool('email.send', { to: [accountant], subject: 'hi', body: 'hello' }));
  return results;
}
