import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { agent, expectOutcome, person } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { services, waitFor } from '../helpers/services.js';

/**
 * The console's decision feed from the real Kafka audit topic (TOOLGATE_KAFKA_BROKERS set), with the chain checked
 * in the detail view and the trace link pointing at a trace Jaeger really has.
 */
describe('console on the Kafka audit topic', () => {
  const svc = services();
  const run = randomBytes(4).toString('hex');
  let telemetry: Telemetry;
  let gw: TestGateway;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: `toolgate-console-${run}`, otlpEndpoint: svc.otlpEndpoint });
    gw = await startTestGateway({
      TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','),
      TOOLGATE_AUDIT_TOPIC: `toolgate.audit.console.${run}`,
      TOOLGATE_CONSOLE: 'true',
      TOOLGATE_CONSOLE_JAEGER_URL: svc.jaegerQueryUrl,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await telemetry?.shutdown();
  });

  it('lists a decision read from the topic, verifies its chain and links its trace', async () => {
    const done = await agent(gw.url, gw.agents.keys['receipts-bot'])('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'monthly' });
    expectOutcome(done, 200);
    const lead = person(gw.url, gw.agents.keys['finance-lead']);
    const listed = await waitFor('the decision in the console feed', async () => {
      const r = await lead('GET', `/console/api/decisions?agent=receipts-bot&type=decision`);
      const decisions = r.body.decisions as { decision_id: string }[];
      return decisions.some((d) => d.decision_id === done.decisionId) ? decisions : undefined;
    });
    expect(listed.length).toBeGreaterThan(0);
    const detail = await waitFor('the decision checked through its checkpoint', async () => {
      const r = await lead('GET', `/console/api/decisions/${done.decisionId}`);
      const events = r.body.events as { event: { type: string; trace_id: string | null }; chain: { hash_ok: boolean; signature: string } }[];
      return events.some((e) => e.event.type === 'completion') && events.every((e) => e.chain.signature === 'ok') ? r.body : undefined;
    });
    const events = detail.events as { event: { trace_id: string | null }; chain: { hash_ok: boolean } }[];
    expect(events.every((e) => e.chain.hash_ok)).toBe(true);
    const traceId = events[0]!.event.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(detail.trace_url).toBe(`${svc.jaegerQueryUrl}/trace/${traceId}`);
    await waitFor('the trace in Jaeger', async () => ((await fetch(`${svc.jaegerQueryUrl}/api/traces/${traceId}`)).ok ? true : undefined));
  });
});
