import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { AgentClient } from '../../src/agent/client.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { buildBundle, unlimited } from '../policy/bundles.js';
import { CollectingReader } from './lifecycle-helpers.js';

/** Shadow mode: a candidate that denies the advisor's trade.suggest, evaluated beside the active policy, never enforced. */
describe('shadow candidate', () => {
  const reader = new CollectingReader();
  const spans = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let gw: TestGateway;
  let advisor: AgentClient;
  let receipts: AgentClient;
  let active: string;
  let candidate: string;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-shadow', metricReaders: [reader], spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    active = buildBundle({ revision: 'active', data: unlimited });
    candidate = buildBundle({ revision: 'candidate', data: (d) => {
      unlimited(d);
      d.toolgate.config.agents.advisor.tools = ['trade.place'];
    } });
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: active, TOOLGATE_POLICY_SHADOW_BUNDLE: candidate });
    advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
    receipts = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
  });
  afterAll(async () => {
    await gw?.close();
    await telemetry?.shutdown();
  });

  const decisionEvent = (id: string): AuditEvent => readAuditFile(gw.config.audit.file).find((e: AuditEvent) => e.type === 'decision' && e.decision_id === id)!;

  it('enforces the active decision and records the disagreeing candidate in the audit event, the span and the counter', async () => {
    const r = await advisor.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'over target' });
    expect(r.status).toBe(200);
    const event = decisionEvent(r.decisionId!);
    assertAuditEvent(event);
    expect(event).toMatchObject({ outcome: 'allow', policy: { revision: 'active' }, shadow: { revision: 'candidate', outcome: 'deny', agrees: false } });
    expect(event.shadow!.reasons.length).toBeGreaterThan(0);
    const span = spans.getFinishedSpans().find((s) => s.attributes['toolgate.decision.id'] === r.decisionId)!;
    expect(span.attributes).toMatchObject({ 'toolgate.shadow.revision': 'candidate', 'toolgate.shadow.outcome': 'deny', 'toolgate.shadow.agrees': false });
    const points = await reader.points('toolgate.shadow.disagreements');
    expect(points.map((p) => [p.attributes.tool, p.attributes.outcome, p.attributes.shadow_outcome, p.value])).toEqual([['trade.suggest', 'allow', 'deny', 1]]);
  });

  it('records an agreeing candidate without counting it', async () => {
    const r = await receipts.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    expect(r.status).toBe(200);
    const event = decisionEvent(r.decisionId!);
    assertAuditEvent(event);
    expect(event.shadow).toMatchObject({ revision: 'candidate', outcome: 'allow', agrees: true });
    const points = await reader.points('toolgate.shadow.disagreements');
    expect(points.reduce((n, p) => n + (p.value as number), 0)).toBe(1);
  });

  it('evaluates no candidate for an unsampled share (fraction 0): no shadow field', async () => {
    const none = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: active, TOOLGATE_POLICY_SHADOW_BUNDLE: candidate, TOOLGATE_POLICY_SHADOW_FRACTION: '0' });
    try {
      const client = new AgentClient({ baseUrl: none.url, privateJwk: none.agents.keys.advisor });
      const r = await client.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'over target' });
      expect(r.status).toBe(200);
      const event = readAuditFile(none.config.audit.file).find((e: AuditEvent) => e.decision_id === r.decisionId)!;
      assertAuditEvent(event);
      expect(event.shadow).toBeUndefined();
    } finally {
      await none.close();
    }
  });

  it('costs little latency: the candidate evaluates concurrently with the active policy (measured, printed)', async () => {
    const plain = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: active });
    try {
      // Interleaved, so load from elsewhere on the machine falls on both alike.
      const call = async (client: AgentClient) => {
        const t = performance.now();
        await client.callTool('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'r' });
        return performance.now() - t;
      };
      const without = new AgentClient({ baseUrl: plain.url, privateJwk: plain.agents.keys.advisor });
      const times: { a: number[]; b: number[] } = { a: [], b: [] };
      for (let i = 0; i < 320; i++) {
        const [x, y] = [await call(without), await call(advisor)];
        if (i >= 20) {
          times.a.push(x);
          times.b.push(y);
        }
      }
      const pct = (ms: number[], q: number) => [...ms].sort((m, n) => m - n)[Math.floor(ms.length * q)]!;
      const a = { p50: pct(times.a, 0.5), p90: pct(times.a, 0.9) };
      const b = { p50: pct(times.b, 0.5), p90: pct(times.b, 0.9) };
      console.log(`shadow cost, 300 interleaved sequential calls: without p50 ${a.p50.toFixed(2)} ms p90 ${a.p90.toFixed(2)} ms; with shadow p50 ${b.p50.toFixed(2)} ms p90 ${b.p90.toFixed(2)} ms`);
      expect(b.p50).toBeLessThan(a.p50 * 3 + 5);
    } finally {
      await plain.close();
    }
  });
});
