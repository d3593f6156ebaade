import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import type { AuditEvent } from '../../src/audit/types.js';
import type { Logger } from '../../src/logger.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';
import { buildBundle, keyPair, unlimited } from '../policy/bundles.js';
import { CollectingReader } from './lifecycle-helpers.js';
import { startBundleServer, type BundleServer } from '../policy/bundle-server.js';

/**
 * Hot swap end to end: a gateway polling a real HTTP bundle server, two signed revisions that decide
 * trade.suggest for the advisor differently (allow / deny), swapped while calls run.
 */
describe('policy hot swap from a bundle server', () => {
  const key = keyPair('ec');
  const reader = new CollectingReader();
  const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = { warn: (message, fields) => logged.push({ level: 'warn', message, ...(fields ? { fields } : {}) }), error: (message, fields) => logged.push({ level: 'error', message, ...(fields ? { fields } : {}) }) };
  let telemetry: Telemetry;
  let allow: Buffer;
  let deny: Buffer;
  let server: BundleServer;
  let gw: TestGateway;
  let advisor: AgentClient;

  const sign = { signingKey: key.privateKey, signingAlg: 'ES256' };
  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-hot-swap', metricReaders: [reader] });
    allow = readFileSync(buildBundle({ revision: 'rev-allow', data: unlimited, ...sign }));
    deny = readFileSync(buildBundle({ revision: 'rev-deny', ...sign, data: (d) => {
      unlimited(d);
      d.toolgate.config.agents.advisor.tools = ['trade.place'];
    } }));
    server = await startBundleServer(allow);
    gw = await startTestGateway({
      TOOLGATE_POLICY_BUNDLE: server.url,
      TOOLGATE_POLICY_VERIFICATION_KEY: key.publicKey,
      TOOLGATE_POLICY_POLL_MIN_MS: '5',
      TOOLGATE_POLICY_POLL_MAX_MS: '20',
    }, { logger });
    advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
  });
  afterAll(async () => {
    await gw?.close();
    await server?.close();
    await telemetry?.shutdown();
  });

  const active = () => gw.gate.readiness().policy;
  const swapTo = async (bytes: Buffer, revision: string) => {
    server.serve(bytes);
    await waitFor(`revision ${revision} active`, async () => (active() === revision ? true : undefined), 30_000, 10);
  };
  const suggest = () => advisor.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'over target' });

  it('decides with the first revision, then with the next one the server publishes, without a restart', async () => {
    expect(active()).toBe('rev-allow');
    expect((await suggest()).status).toBe(200);
    await swapTo(deny, 'rev-deny');
    const denied = await suggest();
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ decision: 'deny', policy: { revision: 'rev-deny' } });
    await swapTo(allow, 'rev-allow');
  });

  it('under 50 concurrent calls and 10 swaps: no 5xx, and every response matches the revision its audit event names', async () => {
    const results: { status: number; decisionId: string; revision?: string }[] = [];
    let swapping = true;
    const worker = async () => {
      while (swapping) {
        const r = await suggest();
        results.push({ status: r.status, decisionId: r.decisionId!, revision: (r.body as { policy?: { revision?: string } }).policy?.revision });
      }
    };
    const workers = Array.from({ length: 50 }, worker);
    for (let i = 0; i < 10; i++) {
      await waitFor('calls decided between swaps', async () => (results.length >= (i + 1) * 50 ? true : undefined), 60_000, 10);
      await (i % 2 === 0 ? swapTo(deny, 'rev-deny') : swapTo(allow, 'rev-allow'));
    }
    swapping = false;
    await Promise.all(workers);

    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    const events = new Map(readAuditFile(gw.config.audit.file).filter((e: AuditEvent) => e.type === 'decision').map((e: AuditEvent) => [e.decision_id, e]));
    const seen = { 'rev-allow': 0, 'rev-deny': 0 } as Record<string, number>;
    for (const r of results) {
      const event = events.get(r.decisionId)!;
      expect(event, `audit event of ${r.decisionId}`).toBeDefined();
      const revision = event.policy.revision;
      seen[revision] = (seen[revision] ?? 0) + 1;
      expect(event.bundles).toEqual({ toolgate: { revision } });
      // allow ⇔ the allowing revision decided; a refusal names the revision its audit event names.
      expect([r.status, revision]).toEqual(revision === 'rev-allow' ? [200, 'rev-allow'] : [403, 'rev-deny']);
      expect(event.outcome).toBe(r.status === 200 ? 'allow' : 'deny');
      if (r.status === 403) expect(r.revision).toBe(revision);
    }
    expect(seen['rev-allow']).toBeGreaterThan(0);
    expect(seen['rev-deny']).toBeGreaterThan(0);
  });

  it.each([
    ['unsigned', () => readFileSync(buildBundle({ revision: 'rev-unsigned', data: unlimited })), 'bundle_signature_missing'],
    ['signed with another key', () => readFileSync(buildBundle({ revision: 'rev-other', data: unlimited, signingKey: keyPair('ec').privateKey, signingAlg: 'ES256' })), 'bundle_signature_invalid'],
    ['not a bundle', () => Buffer.from('not a tarball'), 'policy_bundle_unreadable'],
  ])('keeps the running revision when the server publishes a bundle %s, and reports it in /readyz, a metric and a log line', async (_what, make, reason) => {
    const before = active();
    const served = server.requests.length;
    server.serve(make());
    const status = await waitFor('the refusal', async () => {
      const s = gw.gate.readiness().policyStatus;
      return s?.lastError?.reason === reason ? s : undefined;
    });
    expect(server.requests.length).toBeGreaterThan(served);
    expect(gw.gate.readiness()).toMatchObject({ ready: true, policy: before });
    expect(status.lastError!.message).toMatch(/./);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', policy: before, policyStatus: { revision: before, lastError: { reason } } });
    expect(logged.some((l) => l.level === 'error' && l.fields?.reason === reason && l.fields.revision === before)).toBe(true);
    const points = await reader.points('toolgate.policy.activations');
    expect(points.find((p) => p.attributes.role === 'active' && p.attributes.result === 'refused' && p.attributes.reason === reason)?.value).toBeGreaterThan(0);
    expect((await suggest()).status).toBe(before === 'rev-allow' ? 200 : 403);
    // A good bundle afterwards is activated and clears the error.
    await swapTo(deny, 'rev-deny');
    expect(gw.gate.readiness().policyStatus?.lastError).toBeNull();
    await swapTo(allow, 'rev-allow');
  });
});
