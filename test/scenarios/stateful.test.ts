import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import { generateBreakGlassKey, issueBreakGlass } from '../../src/breakglass/index.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { POLICY_BUNDLE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { loadBundle, PolicyEngine } from '../../src/policy/index.js';
import { agent, expectOutcome, MARKET_OPEN, person } from '../helpers/calls.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { waitFor } from '../helpers/services.js';
import { readAuditFile } from '../helpers/audit.js';

const ACCOUNTANT = 'accountant@ledger-partners.example';
const order = (quantity: number, limit_price: number) => ({
  symbol: 'NVDA', side: 'sell', quantity, limit_price, reason: 'NVDA above 10% of the portfolio; trim to 7%', inputs: ['quote:NVDA', 'rule:nvda-max-10pct'],
});
const MIN = 60_000;

/**
 * The scenario rules that need state the gateway keeps: human approvals, cooldowns, budgets and rate limits,
 * uploaded attachments, break-glass and redaction, through signed HTTP and MCP requests.
 */
describe('stateful scenario rules', () => {
  const demo = exampleTools();
  const admin = generateBreakGlassKey();
  let now = MARKET_OPEN;
  let gw: TestGateway;
  let receipts: ReturnType<typeof agent>;
  let rebalancer: ReturnType<typeof agent>;
  let roomAssistant: ReturnType<typeof agent>;
  let financeLead: ReturnType<typeof person>;
  let alice: ReturnType<typeof person>;

  beforeAll(async () => {
    const adminJwks = join(process.env.TMPDIR ?? '/tmp', `toolgate-admin-${process.pid}.jwks.json`);
    writeFileSync(adminJwks, JSON.stringify(admin.publicJwks));
    gw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper', TOOLGATE_BREAK_GLASS_KEYS: adminJwks }, { tools: demo.tools, now: () => now });
    receipts = agent(gw.url, gw.agents.keys['receipts-bot']);
    rebalancer = agent(gw.url, gw.agents.keys.rebalancer);
    roomAssistant = agent(gw.url, gw.agents.keys['room-assistant']);
    financeLead = person(gw.url, gw.agents.keys['finance-lead']);
    alice = person(gw.url, gw.agents.keys.alice);
  });
  afterAll(() => gw?.close());

  const audit = (): AuditEvent[] => readAuditFile(gw.config.audit.file);
  const approve = async (id: string) => expect((await financeLead('POST', `/approvals/${id}/approve`)).status).toBe(200);

  describe('A: receipts to the accountant', () => {
    it('accepts attachments a human uploaded within the window, with their hashes in the audit event', async () => {
      const up = await alice('POST', '/uploads', 'receipt-2026-11.pdf bytes', { 'content-type': 'application/pdf', 'upload-filename': 'receipt.pdf' });
      expect(up.status).toBe(201);
      const id = up.body.id as string;
      const sent = await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'attached', attachments: [id] });
      expectOutcome(sent, 200);
      const event = audit().find((e) => e.decision_id === sent.decisionId && e.type === 'decision')!;
      expect(event.request.attachments).toEqual([{ id, sha256: up.body.sha256, size: up.body.size }]);

      now += 31 * MIN; // the policy accepts uploads from the last 30 minutes
      expectOutcome(await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'again', attachments: [id] }), 403, ['attachment_stale']);
      now = MARKET_OPEN;
    });

    it('keeps upload records behind a signature', async () => {
      const up = await alice('POST', '/uploads', 'bytes', { 'content-type': 'text/plain' });
      expect((await fetch(`${gw.url}/uploads/${up.body.id as string}`)).status).toBe(401);
      expect((await alice('GET', `/uploads/${up.body.id as string}`)).body).toMatchObject({ uploaded_by: 'alice', size: 5 });
    });

    it('refuses uploads by agents: provenance must be a person', async () => {
      const asAgent = person(gw.url, gw.agents.keys['receipts-bot']);
      const r = await asAgent('POST', '/uploads', 'forged', { 'content-type': 'text/plain' });
      expect(r.status).toBe(403);
      expect(r.body.reason).toBe('uploader_not_human');
    });

    it('caps the total attachment size', async () => {
      const big = new Uint8Array(10.5 * 1024 * 1024).fill(65);
      const a = await alice('POST', '/uploads', big, { 'content-type': 'application/octet-stream' });
      const b = await alice('POST', '/uploads', big, { 'content-type': 'application/octet-stream' });
      expect([a.status, b.status]).toEqual([201, 201]);
      expectOutcome(await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'x', attachments: [a.body.id, b.body.id] }), 403, ['attachments_too_large']);
      expectOutcome(await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'x', attachments: [a.body.id] }), 200);
    });

    it('runs a sensitive email through a single-use human approval bound to the exact call', async () => {
      const args = { to: [ACCOUNTANT], subject: 'Invoice and tax summary', body: 'see attached' };
      const asked = await receipts('email.send', args);
      expectOutcome(asked, 202, ['subject_sensitive']);
      const id = asked.approvalId!;
      expect(demo.outbox.some((m) => (m as { subject: string }).subject === args.subject)).toBe(false);

      expectOutcome(await receipts('email.send', args, 'http', { 'toolgate-approval': id }), 403, ['approval_pending']);
      const asAgent = person(gw.url, gw.agents.keys['receipts-bot']);
      expect((await asAgent('POST', `/approvals/${id}/approve`)).body.reason).toBe('not_an_approver');
      const listed = await financeLead('GET', '/approvals');
      expect((listed.body.approvals as { id: string }[]).map((a) => a.id)).toContain(id);
      await approve(id);

      expectOutcome(await receipts('email.send', { ...args, to: ['backup@ledger-partners.example'] }, 'http', { 'toolgate-approval': id }), 403, ['approval_mismatch']);
      const done = await receipts('email.send', args, 'http', { 'toolgate-approval': id });
      expectOutcome(done, 200);
      expect(demo.outbox.some((m) => (m as { subject: string }).subject === args.subject)).toBe(true);
      expectOutcome(await receipts('email.send', args, 'http', { 'toolgate-approval': id }), 403, ['approval_used']);

      const events = audit();
      expect(events.find((e) => e.type === 'approval' && (e.approval as { id: string }).id === id)).toMatchObject({ agent: { id: 'finance-lead' }, outcome: 'allow' });
      expect(events.find((e) => e.decision_id === done.decisionId && e.type === 'decision')?.approval).toMatchObject({ id, status: 'approved', approved_by: 'finance-lead' });
    });

    it('expires approvals', async () => {
      const asked = await receipts('email.read_inbox', {}, 'mcp');
      expectOutcome(asked, 202, ['tool_requires_approval']);
      await approve(asked.approvalId!);
      now += 16 * MIN; // ttl 900 s
      expectOutcome(await receipts('email.read_inbox', {}, 'mcp', { 'toolgate-approval': asked.approvalId! }), 403, ['approval_expired']);
      now = MARKET_OPEN;
    });
  });

  describe('B: rebalancing with execution', () => {
    it('enforces the cooldown between orders, then the daily notional budget', async () => {
      // 5 orders of 5 000 (each above the 2 500 approval threshold) fill the 25 000 daily budget.
      const placeApproved = async (qty: number, price: number) => {
        const asked = await rebalancer('trade.place', order(qty, price));
        expectOutcome(asked, 202, ['order_above_approval_threshold']);
        await approve(asked.approvalId!);
        return rebalancer('trade.place', order(qty, price), 'mcp', { 'toolgate-approval': asked.approvalId! });
      };
      expectOutcome(await placeApproved(50, 100), 200);
      const tooSoon = await rebalancer('trade.place', order(10, 100));
      expectOutcome(tooSoon, 429, ['cooldown_active']);
      expect(Number(tooSoon.raw.headers.get('retry-after'))).toBeGreaterThan(0);
      for (let i = 0; i < 4; i++) {
        now += 5 * MIN + 1000;
        expectOutcome(await placeApproved(50, 100), 200);
      }
      now += 5 * MIN + 1000;
      const over = await placeApproved(50, 100);
      expectOutcome(over, 429, ['budget_exceeded']);
      expect(demo.orders).toHaveLength(5);
      now = MARKET_OPEN;
    });

    it('keeps trading to market hours, except under a valid break-glass token, audited as critical', async () => {
      now = Date.parse('2026-11-28T15:00:00Z'); // Saturday
      expectOutcome(await rebalancer('trade.place', order(1, 100)), 403, ['outside_time_window']);
      const { token } = issueBreakGlass({ privateJwk: admin.privateJwk, who: 'oncall-alice', why: 'INC-42 unwind a runaway position', ttlS: 3600, scopes: ['trade.place'], now: () => now });
      const broke = await rebalancer('trade.place', order(1, 100), 'http', { 'toolgate-break-glass': token });
      expectOutcome(broke, 200);
      const event = audit().find((e) => e.decision_id === broke.decisionId && e.type === 'decision')!;
      expect(event.reasons.map((r) => r.code)).toContain('break_glass_used');
      expect(event.result?.obligations.audit.level).toBe('critical');
      expect(event.break_glass).toMatchObject({ valid: true, who: 'oncall-alice' });
      expectOutcome(await rebalancer('trade.place', order(1, 100), 'http', { 'toolgate-break-glass': 'tgbg1.forged.token' }), 403, ['break_glass_invalid']);
      now = MARKET_OPEN;
    });

    it('refuses execution outside the allowed environments', async () => {
      const dev = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'development' }, { now: () => MARKET_OPEN });
      try {
        expectOutcome(await agent(dev.url, dev.agents.keys.rebalancer)('trade.place', order(1, 100)), 403, ['environment_not_allowed']);
      } finally {
        await dev.close();
      }
    });
  });

  describe('C: multi-user context', () => {
    it('redacts PII entering a room and records what was removed', async () => {
      const r = await roomAssistant('memory.write', { scope: 'room', room: 'r7', on_behalf_of: 'u1', label: 'internal', content: 'ask jane.doe@example.com or call 555-123-4567', retention_days: 10 }, 'mcp');
      expectOutcome(r, 200);
      const stored = demo.memories.find((m) => (m as { room?: string }).room === 'r7') as { content: string };
      expect(stored.content).not.toContain('jane.doe@example.com');
      expect(stored.content).toContain('[REDACTED:email]');
      // The completion event follows the tool's answer, so it may land just after the response.
      const completion = await waitFor('the completion event', async () => audit().find((e) => e.decision_id === r.decisionId && e.type === 'completion'));
      expect(completion.response?.redacted).toContainEqual({ pointer: '/args/content', types: expect.arrayContaining(['email']) });
    });
  });

  describe('limits', () => {
    it('rate-limits email.send at 20 an hour with Retry-After', async () => {
      now = MARKET_OPEN + 3 * 3600_000; // a fresh window
      for (let i = 0; i < 20; i++) expectOutcome(await receipts('email.send', { to: [ACCOUNTANT], subject: `Receipts ${i}`, body: 'x' }), 200);
      const limited = await receipts('email.send', { to: [ACCOUNTANT], subject: 'one more', body: 'x' });
      expectOutcome(limited, 429, ['rate_limited']);
      expect(Number(limited.raw.headers.get('retry-after'))).toBeGreaterThan(0);
      now = MARKET_OPEN;
    });
  });

  it('replays every decision from its audit event to the same result', async () => {
    const engine = await PolicyEngine.load(await loadBundle(POLICY_BUNDLE));
    const decisions = audit().filter((e) => e.type === 'decision' && e.result && e.input);
    expect(decisions.length).toBeGreaterThan(30);
    let replayed = 0;
    for (const e of decisions) {
      // A masked input is not the input the policy saw; those events say so in `masked`/`erased`.
      if (e.masked.length || e.erased.length) continue;
      expect(engine.evaluateRaw(e.input), e.decision_id).toEqual(e.result);
      replayed++;
    }
    expect(replayed).toBeGreaterThan(30);
  });

  it('wrote a schema-valid audit event for every decision, completion and approval', () => {
    const events = audit();
    for (const e of events) assertAuditEvent(e);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['decision', 'completion', 'approval']));
  });
});
