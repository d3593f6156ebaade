import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { ToolgateError } from '../../src/errors.js';
import { canaryBucket } from '../../src/policy/index.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { buildBundle, unlimited, type DemoData } from '../policy/bundles.js';

/** A candidate that denies the advisor's trade.suggest (the active policy allows it). */
const denyAdvisor = (d: DemoData) => {
  unlimited(d);
  d.toolgate.config.agents.advisor.tools = ['trade.place'];
};
const SUGGEST = { symbol: 'NVDA', side: 'sell', reason: 'over target' };

/** gate.policyControl: shadow, canary, promotion and rollback changed while the gateway runs, no restart. */
describe('policy rollout control', () => {
  let gw: TestGateway;
  let candidate: string;
  let other: string;
  let advisor: AgentClient;
  let receipts: AgentClient;

  beforeAll(async () => {
    candidate = buildBundle({ revision: 'candidate', data: denyAdvisor });
    other = buildBundle({ revision: 'other', data: denyAdvisor });
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: buildBundle({ revision: 'active', data: unlimited }) });
    advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
    receipts = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const event = (id: string | null): AuditEvent => readAuditFile(gw.config.audit.file).find((e: AuditEvent) => e.type === 'decision' && e.decision_id === id)!;
  /** The advisor's trade.suggest: its status and the revision its audit event names. */
  const suggest = async (client = advisor) => {
    const r = await client.callTool('trade.suggest', SUGGEST);
    return { status: r.status, revision: event(r.decisionId).policy.revision, event: event(r.decisionId) };
  };
  const rejection = async (p: Promise<unknown>) => {
    const error = await p.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ToolgateError);
    return (error as ToolgateError).reason;
  };

  it('starts and stops a shadow candidate: recorded beside the enforced decision, then no longer', async () => {
    const status = await gw.gate.policyControl.setShadow({ bundle: candidate });
    expect(status.shadow).toMatchObject({ role: 'shadow', revision: 'candidate', fraction: 1 });
    const shadowed = await suggest();
    expect(shadowed).toMatchObject({ status: 200, revision: 'active', event: { shadow: { revision: 'candidate', outcome: 'deny', agrees: false } } });
    expect(gw.gate.readiness().candidates).toEqual([expect.objectContaining({ role: 'shadow', revision: 'candidate' })]);

    expect((await gw.gate.policyControl.setShadow(null)).shadow).toBeNull();
    expect((await suggest()).event.shadow).toBeUndefined();
  });

  it('starts a canary, changes its fraction (same candidate, no reload), and rolls it back', async () => {
    await gw.gate.policyControl.setCanary({ bundle: candidate, fraction: 1 });
    expect(await suggest()).toMatchObject({ status: 403, revision: 'candidate' });

    const status = await gw.gate.policyControl.setCanary({ fraction: 0 });
    expect(status.canary).toMatchObject({ revision: 'candidate', fraction: 0 });
    expect(await suggest()).toMatchObject({ status: 200, revision: 'active' });

    // The advisor hashes under the fraction, receipts-bot above it: each decided by its own side.
    const fraction = canaryBucket('advisor') + 1e-9;
    expect(canaryBucket('receipts-bot')).toBeGreaterThan(fraction);
    await gw.gate.policyControl.setCanary({ bundle: candidate, fraction }); // the running candidate's bundle: a fraction change
    expect(await suggest()).toMatchObject({ status: 403, revision: 'candidate' });
    const r = await receipts.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    expect(event(r.decisionId).policy.revision).toBe('active');

    expect((await gw.gate.policyControl.rollback()).canary).toBeNull();
    expect(await suggest()).toMatchObject({ status: 200, revision: 'active' });
    expect(gw.gate.readiness().candidates).toBeUndefined();
  });

  it('refuses bad changes with a reason code and keeps the running rollout', async () => {
    expect(await rejection(gw.gate.policyControl.promote())).toBe('policy_candidate_missing');
    expect(await rejection(gw.gate.policyControl.setCanary({ fraction: 0.5 }))).toBe('policy_candidate_missing');
    await gw.gate.policyControl.setCanary({ bundle: candidate, fraction: 1 });
    expect(await rejection(gw.gate.policyControl.setCanary({ fraction: 2 }))).toBe('policy_rollout_invalid');
    expect(await rejection(gw.gate.policyControl.setCanary({ bundle: `${gw.dir}/no-such-bundle.tar.gz`, fraction: 1 }))).toBe('policy_bundle_unreadable');
    expect(gw.gate.policyControl.status().canary).toMatchObject({ revision: 'candidate', fraction: 1 });
    expect(await suggest()).toMatchObject({ status: 403, revision: 'candidate' });
    await gw.gate.policyControl.rollback();
  });

  it('replaces a canary under load: calls in flight on the old candidate finish on it (no 5xx), each matching its revision', async () => {
    await gw.gate.policyControl.setCanary({ bundle: candidate, fraction: 1 });
    let swapping = true;
    const results: Awaited<ReturnType<AgentClient['callTool']>>[] = [];
    // Eight agents' worth of calls keep coming while the candidate is replaced and dropped, so some are being decided
    // by the old candidate at the moment it is swapped out.
    const callers = Array.from({ length: 8 }, async () => {
      while (swapping) results.push(await advisor.callTool('trade.suggest', SUGGEST));
    });
    for (let i = 0; i < 3; i++) {
      await gw.gate.policyControl.setCanary({ bundle: i % 2 ? candidate : other, fraction: 1 });
    }
    await gw.gate.policyControl.rollback();
    swapping = false;
    await Promise.all(callers);
    for (const r of results) {
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
      expect(r.status).toBe(event(r.decisionId).policy.revision === 'active' ? 200 : 403);
    }
    const seen = new Set(results.map((r) => event(r.decisionId).policy.revision));
    expect(seen.has('candidate') && seen.has('other'), [...seen].join()).toBe(true);
    expect(await suggest()).toMatchObject({ status: 200, revision: 'active' });
  });

  it('promotes the canary: its revision becomes the active one for every agent, the canary is gone', async () => {
    await gw.gate.policyControl.setCanary({ bundle: candidate, fraction: 0 });
    expect(await suggest()).toMatchObject({ status: 200, revision: 'active' });
    const status = await gw.gate.policyControl.promote();
    expect(status.active).toMatchObject({ role: 'active', revision: 'candidate' });
    expect(status.canary).toBeNull();
    expect(await suggest()).toMatchObject({ status: 403, revision: 'candidate' });
    expect(gw.gate.policyRevision).toBe('candidate');
  });
});
