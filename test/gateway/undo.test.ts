import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestSigner } from '../../src/agent/sign-request.js';
import { MemoryApprovalStore, type ApprovalStore } from '../../src/approvals/index.js';
import { FileSink } from '../../src/audit/index.js';
import type { AuditSink } from '../../src/audit/types.js';
import type { DemoAgents } from '../../src/demo/agents.js';
import { toolgate, type Toolgate } from '../../src/gateway/middleware.js';
import { createVerifier } from '../../src/identity/index.js';
import { MemoryNonceStore } from '../../src/identity/memory-nonce-store.js';
import type { NonceStore } from '../../src/identity/types.js';
import { MemoryLimitStore } from '../../src/limits/memory-store.js';
import type { LimitStore, Reservation } from '../../src/limits/types.js';
import { MemoryUploadStore } from '../../src/uploads/index.js';
import { readAuditFile } from '../helpers/audit.js';
import { listen, type Listening } from '../helpers/listen.js';
import { POLICY_BUNDLE, scratchGateway } from '../helpers/gateway.js';

/** Which component fails, and on which of its calls (counted per request). */
interface Plan {
  component: string | null;
  nth: number;
  calls: Record<string, number>;
}

/**
 * A real store or sink that throws on the plan's Nth call (any method but those in `spare`, which run after the
 * call is decided and have their own failure handling). Methods run on the target itself (private fields).
 */
function faulty<T extends object>(name: string, target: T, plan: Plan, spare: readonly string[] = []): T {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t) as unknown;
      if (typeof value !== 'function' || spare.includes(String(key))) return typeof value === 'function' ? value.bind(t) : value;
      return (...args: unknown[]) => {
        plan.calls[name] = (plan.calls[name] ?? 0) + 1;
        if (plan.component === name && plan.calls[name] === plan.nth) return Promise.reject(new Error(`injected failure: ${name} call ${plan.nth} (${String(key)})`));
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

/**
 * One path gives back what a call acquired when it does not execute. A failure is injected at every call of
 * every store and sink the request path uses; after each: the tool ran only for a 200, no limit reservation is
 * left open, an approval is spent only by a call that ran, the same signed bytes never run twice, and every
 * refusal is in the audit log with the verified agent.
 */
describe('a half-done call gives back what it took, exactly once', () => {
  const plan: Plan = { component: null, nth: 0, calls: {} };
  const open = new Set<Reservation>();
  const sent: unknown[] = [];
  let approvals: ApprovalStore;
  let gate: Toolgate;
  let server: Listening;
  let origin: string;
  let agents: DemoAgents;
  let auditFile: string;

  beforeAll(async () => {
    const scratch = scratchGateway('toolgate-undo-');
    ({ agents, auditFile } = scratch);
    approvals = new MemoryApprovalStore();
    const limits = new MemoryLimitStore();
    // Track reservations: every one handed out must be settled or released.
    const tracked: LimitStore = {
      reserve: async (...a) => {
        const r = await limits.reserve(...a);
        if (r.ok) open.add(r.reservation);
        return r;
      },
      release: async (r) => {
        open.delete(r);
        await limits.release(r);
      },
      settle: async (r) => {
        open.delete(r);
        await limits.settle(r);
      },
    };
    gate = toolgate({
      policy: { bundle: POLICY_BUNDLE },
      verifier: await createVerifier({ jwksFiles: [agents.jwksFile], nonceStore: faulty<NonceStore>('nonces', new MemoryNonceStore(), plan) }),
      audit: { sink: faulty<AuditSink>('audit', new FileSink(auditFile), plan, ['open', 'lastEvent', 'healthy', 'recovered', 'close']), keyFile: scratch.keyFile },
      limits: faulty('limits', tracked, plan, ['release', 'settle']),
      approvals: faulty('approvals', approvals, plan, ['restore']),
      uploads: faulty('uploads', new MemoryUploadStore(), plan),
      environment: 'test',
      now: () => Date.parse('2026-11-25T15:00:00Z'),
    });
    const app = express();
    app.use(gate);
    app.use('/tools', gate.tools(express.Router().post('/:name', (req, res) => {
      sent.push(req.body);
      res.json({ sent: true });
    })));
    await gate.ready();
    server = await listen(app);
    origin = server.origin;
  });
  afterAll(async () => {
    await server?.close();
    await gate?.close();
  });

  const sign = () => createRequestSigner({ privateJwk: agents.keys['receipts-bot'] });
  /** A signed request, as bytes and headers, so the very same request can be sent twice. */
  function signed(args: unknown, extra: Record<string, string> = {}) {
    const body = JSON.stringify(args);
    const headers = { 'content-type': 'application/json', ...extra };
    return { body, headers: { ...headers, ...sign()({ method: 'POST', url: `${origin}/tools/email.send`, headers, body }) } };
  }
  const send = async (r: { body: string; headers: Record<string, string> }) => {
    const res = await fetch(`${origin}/tools/email.send`, { method: 'POST', headers: r.headers, body: r.body });
    return { status: res.status, decisionId: res.headers.get('toolgate-decision-id'), body: (await res.json()) as Record<string, unknown> };
  };

  /** A sensitive e-mail (needs a person), approved; resolves the approval id and the arguments. */
  async function approvedCall(i: number) {
    const args = { to: ['accountant@ledger-partners.example'], subject: `Invoice ${i}`, body: 'see attached' };
    const asked = await send(signed(args));
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    const id = (asked.body.approval as { id: string }).id;
    expect((await approvals.decide(id, 'finance-lead', 'approve', Date.parse('2026-11-25T15:00:00Z'))).ok).toBe(true);
    return { id, args };
  }

  it('counts the calls each component gets on a clean approved call (the cases below)', async () => {
    const { id, args } = await approvedCall(0);
    plan.calls = {};
    const r = await send(signed(args, { 'toolgate-approval': id }));
    expect(r.status).toBe(200);
    for (const c of ['nonces', 'approvals', 'limits', 'audit']) expect(plan.calls[c], c).toBeGreaterThan(0);
  });

  const cases: [string, number][] = [];
  for (const component of ['nonces', 'approvals', 'limits', 'uploads', 'audit']) for (let nth = 1; nth <= 3; nth++) cases.push([component, nth]);

  it.each(cases)('%s fails on its call %i', async (component, nth) => {
    const { id, args } = await approvedCall(cases.findIndex(([c, n]) => c === component && n === nth) + 1);
    const before = sent.length;
    open.clear();
    const request = signed(args, { 'toolgate-approval': id });
    Object.assign(plan, { component, nth, calls: {} });
    const r = await send(request);
    Object.assign(plan, { component: null, nth: 0 });
    await expect.poll(() => open.size, { timeout: 5000 }).toBe(0); // no reservation left open, ran or not

    const event = readAuditFile(auditFile).find((e) => e.type === 'decision' && e.decision_id === r.decisionId);
    expect(event, `no decision event for ${component}#${nth}`).toBeDefined();
    const record = await approvals.get(id);
    if (r.status === 200) {
      expect(sent.length).toBe(before + 1);
      expect(event).toMatchObject({ outcome: 'allow' });
      expect(record?.status).toBe('used');
    } else {
      expect(sent.length, JSON.stringify(r.body)).toBe(before);
      expect(record?.status, `${component}#${nth}: the approval of a call that did not run is spent`).toBe('approved');
      // Refused after identity: recorded with the verified agent, not an anonymous caller.
      if (component !== 'nonces') expect(event).toMatchObject({ agent: { id: 'receipts-bot', verified: true } });
    }
    // The very same signed bytes never run a second time.
    const again = await send(request);
    expect(sent.length).toBeLessThanOrEqual(before + 1);
    if (r.status === 200 || component !== 'nonces') expect(again.status).toBe(401);
  });
});
