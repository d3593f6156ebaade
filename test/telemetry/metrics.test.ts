import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { AgentClient } from '../../src/agent/client.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Metrics and span attributes as SRE sees them, collected in-process (the Jaeger test checks the exported ones). */
describe('decision metrics and spans', () => {
  const reader = new CollectingReader();
  const spans = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let gw: TestGateway;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-unit', metricReaders: [reader], spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
    await telemetry?.shutdown();
  });

  it('counts decisions by outcome and tool, and identity failures by reason', async () => {
    const agent = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    await agent.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    await agent.callTool('trade.place', {});
    await new AgentClient({ baseUrl: gw.url }).callTool('email.send', {});
    const { resourceMetrics } = await reader.collect();
    const all: MetricData[] = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const metric = (name: string) => all.find((m) => m.descriptor.name === name);
    const decisions = metric('toolgate.decisions')!.dataPoints.map((p) => [p.attributes.outcome, p.attributes.tool, p.value]);
    expect(decisions).toEqual(expect.arrayContaining([['allow', 'email.send', 1], ['deny', 'trade.place', 1], ['unauthenticated', 'email.send', 1]]));
    expect(metric('toolgate.identity.failures')!.dataPoints.map((p) => [p.attributes.reason, p.value])).toEqual([['signature_missing', 1]]);
    expect(metric('toolgate.decision.duration')!.dataPoints.length).toBeGreaterThan(0);
    expect(metric('toolgate.audit.spool.depth')).toBeDefined();
  });

  it('names spans authorize {tool} and execute_tool {tool}; a deny is not an error', async () => {
    // The tool span ends when the response is handed off, which can be just after the client has read it.
    const finished = await waitFor('the tool span', async () => {
      const all = spans.getFinishedSpans();
      return all.some((x) => x.name === 'execute_tool email.send') ? all : undefined;
    });
    const names = finished.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['authorize email.send', 'execute_tool email.send', 'authorize trade.place']));
    const deny = finished.find((s) => s.name === 'authorize trade.place')!;
    expect(deny.status.code).not.toBe(2);
    expect(deny.attributes['toolgate.decision.outcome']).toBe('deny');
    const exec = finished.find((s) => s.name === 'execute_tool email.send')!;
    const auth = finished.find((s) => s.name === 'authorize email.send')!;
    expect(exec.parentSpanContext?.spanId).toBe(auth.spanContext().spanId);
  });
});
