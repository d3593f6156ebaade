import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { canaryBucket } from '../../src/policy/index.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';
import { buildBundle, unlimited, type DemoData } from '../policy/bundles.js';
import { startBundleServer, type BundleServer } from '../policy/bundle-server.js';

const AGENTS = ['receipts-bot', 'rebalancer', 'advisor', 'room-assistant'] as const;

/** The candidate denies the advisor's trade.suggest; `rollout` sets the share of agents from its own data. */
const candidateData = (rollout?: number) => (d: DemoData) => {
  unlimited(d);
  d.toolgate.config.agents.advisor.tools = ['trade.place'];
  if (rollout !== undefined) (d.toolgate as Record<string, unknown>).rollout = { canary_fraction: rollout };
};

/**
 * Canary: a candidate from a real bundle server enforced for the agents whose id hashes under the fraction, the
 * rest on the active policy; promoted and rolled back by the server's content, without a restart.
 */
describe('canary candidate', () => {
  // The fraction puts the advisor (and whoever hashes below it) on the candidate, and at least one agent not.
  const sorted = [...AGENTS].sort((a, b) => canaryBucket(a) - canaryBucket(b));
  const fraction = canaryBucket('advisor') + 1e-9;
  let server: BundleServer;
  let gw: TestGateway;
  const clients = {} as Record<(typeof AGENTS)[number], AgentClient>;

  beforeAll(async () => {
    server = await startBundleServer(readFileSync(buildBundle({ revision: 'candidate', data: candidateData() })));
    const active = buildBundle({ revision: 'active', data: unlimited });
    gw = await startTestGateway({
      TOOLGATE_POLICY_BUNDLE: active,
      TOOLGATE_POLICY_CANARY_BUNDLE: server.url,
      TOOLGATE_POLICY_CANARY_FRACTION: String(fraction),
      TOOLGATE_POLICY_POLL_MIN_MS: '5',
      TOOLGATE_POLICY_POLL_MAX_MS: '20',
    });
    for (const id of AGENTS) clients[id] = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys[id] });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.close();
  });

  /** Each agent calls a few times; returns the revisions its audit events name. */
  const revisionsSeen = async () => {
    const ids: Record<string, string[]> = {};
    for (const id of AGENTS) {
      for (let i = 0; i < 3; i++) {
        const r = await clients[id].callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'r' });
        expect(r.status).toBeLessThan(500);
        (ids[id] ??= []).push(r.decisionId!);
      }
    }
    const events = new Map(readAuditFile(gw.config.audit.file).map((e: AuditEvent) => [e.decision_id, e]));
    return Object.fromEntries(Object.entries(ids).map(([id, decisions]) => [id, [...new Set(decisions.map((d) => events.get(d)!.policy.revision))]]));
  };

  it('decides for the agents hashed under the fraction with the candidate, for the rest with the active policy, each agent always with one', async () => {
    expect(canaryBucket(sorted.at(-1)!)).toBeGreaterThan(fraction); // someone stays on the active policy
    const seen = await revisionsSeen();
    for (const id of AGENTS) expect(seen[id], id).toEqual([canaryBucket(id) < fraction ? 'candidate' : 'active']);
    const r = await clients.advisor.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'r' });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ policy: { revision: 'candidate' } });
  });

  it('is promoted to every agent, then rolled back, by what the bundle server publishes, without a restart', async () => {
    server.serve(readFileSync(buildBundle({ revision: 'candidate-promoted', data: candidateData(1) })));
    await waitFor('the promoted candidate', async () => (Object.values(await revisionsSeen()).every((r) => r.at(-1) === 'candidate-promoted') ? true : undefined), 30_000, 20);
    for (const [id, revisions] of Object.entries(await revisionsSeen())) expect(revisions, id).toEqual(['candidate-promoted']);
    expect(gw.gate.readiness().candidates).toEqual([expect.objectContaining({ role: 'canary', revision: 'candidate-promoted', fraction: 1, lastError: null })]);

    server.serve(readFileSync(buildBundle({ revision: 'candidate-rolled-back', data: candidateData(0) })));
    await waitFor('the rollback', async () => (Object.values(await revisionsSeen()).every((r) => r.at(-1) === 'active') ? true : undefined), 30_000, 20);
    for (const [id, revisions] of Object.entries(await revisionsSeen())) expect(revisions, id).toEqual(['active']);
    expect((await clients.advisor.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'r' })).status).toBe(200);
  });
});
