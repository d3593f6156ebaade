import { afterAll, beforeAll, describe, it } from 'vitest';
import { exampleTools } from '../../src/server/example-tools.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { agent, expectOutcome, MARKET_OPEN, type Protocol } from '../helpers/calls.js';


const ACCOUNTANT = 'accountant@ledger-partners.example';
const order = (quantity: number, limit_price: number, extra: Record<string, unknown> = {}) => ({
  symbol: 'NVDA', side: 'sell', quantity, limit_price, reason: 'NVDA above 10% of the portfolio; trim to 7%', inputs: ['quote:NVDA@2026-11-25T14:59Z', 'rule:nvda-max-10pct'], ...extra,
});

type Who = 'receipts-bot' | 'advisor' | 'rebalancer' | 'room-assistant';
interface Case { rule: string; who: Who; tool: string; args: Record<string, unknown>; status: number; codes?: string[] }

/**
 * Every scenario rule that needs no state, through the whole gateway, each over plain HTTP and over MCP:
 * an allowed and a refused case per rule. Stateful rules (limits, approvals, attachments, break-glass,
 * redaction) have their own files.
 */
const CASES: Case[] = [
  // identity and tool allowlists
  { rule: 'tool allowlist: allowed', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Receipts', body: 'November receipts' }, status: 200 },
  { rule: 'tool allowlist: refused', who: 'receipts-bot', tool: 'memory.read', args: { scope: 'room', room: 'r1', on_behalf_of: 'u1' }, status: 403, codes: ['tool_not_allowed'] },
  // A: receipts to the accountant
  { rule: 'recipient allowlist: refused', who: 'receipts-bot', tool: 'email.send', args: { to: ['mallory@evil.example'], subject: 'Receipts', body: 'x' }, status: 403, codes: ['recipient_not_allowed'] },
  { rule: 'recipient allowlist: cc refused', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], cc: ['x@evil.example'], subject: 'Receipts', body: 'x' }, status: 403, codes: ['recipient_not_allowed'] },
  { rule: 'no secrets in mail: AWS key', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Receipts', body: 'creds AKIAIOSFODNN7EXAMPLE' }, status: 403, codes: ['secret_in_args'] },
  { rule: 'no secrets in mail: private key', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Receipts', body: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----' }, status: 403, codes: ['secret_in_args'] },
  { rule: 'no secrets in mail: seed phrase', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Receipts', body: 'my seed phrase: abandon ability able about above absent absorb abstract absurd abuse access accident' }, status: 403, codes: ['secret_in_args'] },
  { rule: 'sensitive subject needs approval', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Invoice for October', body: 'attached' }, status: 202, codes: ['subject_sensitive'] },
  { rule: 'unusual recipient needs approval', who: 'receipts-bot', tool: 'email.send', args: { to: ['backup@ledger-partners.example'], subject: 'Receipts', body: 'x' }, status: 202, codes: ['recipients_unusual'] },
  { rule: 'reading the inbox needs approval', who: 'receipts-bot', tool: 'email.read_inbox', args: {}, status: 202, codes: ['tool_requires_approval'] },
  { rule: 'attachments must be uploads', who: 'receipts-bot', tool: 'email.send', args: { to: [ACCOUNTANT], subject: 'Receipts', body: 'x', attachments: ['upl_made_up'] }, status: 403, codes: ['attachment_unknown'] },
  // B: rebalancing
  { rule: 'advisory is allowed', who: 'advisor', tool: 'trade.suggest', args: { symbol: 'NVDA', side: 'sell', reason: 'over target' }, status: 200 },
  { rule: 'execution needs the capability', who: 'advisor', tool: 'trade.place', args: order(1, 100), status: 403, codes: ['capability_missing'] },
  { rule: 'a trade needs a reason', who: 'rebalancer', tool: 'trade.place', args: order(1, 100, { reason: undefined }), status: 403, codes: ['trade_reason_missing'] },
  { rule: 'a trade needs its data inputs', who: 'rebalancer', tool: 'trade.place', args: order(1, 100, { inputs: [] }), status: 403, codes: ['trade_inputs_missing'] },
  { rule: 'maximum order size', who: 'rebalancer', tool: 'trade.place', args: order(200, 100), status: 403, codes: ['order_too_large'] },
  { rule: 'approval above the threshold', who: 'rebalancer', tool: 'trade.place', args: order(50, 100), status: 202, codes: ['order_above_approval_threshold'] },
  // C: multi-user memory
  { rule: 'own user memory: write allowed', who: 'room-assistant', tool: 'memory.write', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1', label: 'internal', content: 'likes tea', retention_days: 30 }, status: 200 },
  { rule: 'no cross-user memory', who: 'room-assistant', tool: 'memory.write', args: { scope: 'user', owner: 'u2', on_behalf_of: 'u1', label: 'internal', content: 'x', retention_days: 30 }, status: 403, codes: ['cross_user_memory'] },
  { rule: 'no cross-user recall', who: 'room-assistant', tool: 'memory.read', args: { scope: 'user', owner: 'u2', on_behalf_of: 'u1' }, status: 403, codes: ['cross_user_memory'] },
  { rule: 'own user memory: read allowed', who: 'room-assistant', tool: 'memory.read', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1' }, status: 200 },
  { rule: 'no user memory recalled into a room', who: 'room-assistant', tool: 'memory.read', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1', into_room: 'r1' }, status: 403, codes: ['user_memory_into_room'] },
  { rule: 'room memory read in its room', who: 'room-assistant', tool: 'memory.read', args: { scope: 'room', room: 'r1', on_behalf_of: 'u1', into_room: 'r1' }, status: 200 },
  { rule: 'secret data never enters a room', who: 'room-assistant', tool: 'memory.write', args: { scope: 'room', room: 'r1', on_behalf_of: 'u1', label: 'secret', content: 'x', retention_days: 10 }, status: 403, codes: ['label_not_allowed_in_room'] },
  { rule: 'a detected secret never enters a room', who: 'room-assistant', tool: 'memory.write', args: { scope: 'room', room: 'r1', on_behalf_of: 'u1', label: 'internal', content: 'token ghp_' + 'a1B2c3D4e5'.repeat(4), retention_days: 10 }, status: 403, codes: ['secret_to_room'] },
  { rule: 'public data may enter a room', who: 'room-assistant', tool: 'memory.write', args: { scope: 'room', room: 'r1', on_behalf_of: 'u1', label: 'public', content: 'standup at 10', retention_days: 10 }, status: 200 },
  { rule: 'retention window per label', who: 'room-assistant', tool: 'memory.write', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1', label: 'internal', content: 'x', retention_days: 400 }, status: 403, codes: ['retention_too_long'] },
  { rule: 'retention is required', who: 'room-assistant', tool: 'memory.write', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1', label: 'internal', content: 'x' }, status: 403, codes: ['retention_required'] },
  { rule: 'data must be labelled', who: 'room-assistant', tool: 'memory.write', args: { scope: 'user', owner: 'u1', on_behalf_of: 'u1', content: 'x', retention_days: 3 }, status: 403, codes: ['label_required'] },
];

describe.each<Protocol>(['http', 'mcp'])('scenario rules over %s', (protocol) => {
  const demo = exampleTools();
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper' }, { tools: demo.tools, now: () => MARKET_OPEN });
  });
  afterAll(() => gw?.close());

  it.each(CASES)('$rule', async (c) => {
    const call = agent(gw.url, gw.agents.keys[c.who]);
    const o = await call(c.tool, c.args, protocol);
    expectOutcome(o, c.status, c.codes);
  });
});
