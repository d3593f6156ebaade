import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { parentContext, startDecisionSpan, traceIds } from '../../src/telemetry/decision-span.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER = { traceparent: `00-${TRACE}-b7ad6b7169203331-01` };

/** A decision span as the gateway opens it, with the attributes the stages set along the way. */
function decide(headers: Record<string, string>) {
  const span = startDecisionSpan('email.send', parentContext(headers), { 'toolgate.decision.id': 'd1' });
  span.setAttribute('toolgate.decision.outcome', 'allow');
  span.end();
  return span;
}

describe('telemetry with nothing listening (no OTLP endpoint, no processor)', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('records no spans and no metrics: the API no-ops stay in place', () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-off' });
    expect(telemetry).toMatchObject({ tracing: false, metering: false });
    expect(decide({}).isRecording()).toBe(false);
  });

  it('still carries the caller’s trace id, and records null for what it did not trace', () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-off' });
    expect(traceIds(decide(CALLER))).toEqual({ traceId: TRACE, spanId: null });
    expect(traceIds(decide({}))).toEqual({ traceId: null, spanId: null });
  });

  it('records spans once a processor listens, with the decision’s own span id', async () => {
    const exporter = new InMemorySpanExporter();
    telemetry = setupTelemetry({ serviceName: 'toolgate-on', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    expect(telemetry.tracing).toBe(true);
    const span = decide(CALLER);
    expect(span.isRecording()).toBe(false); // ended
    const ids = traceIds(span);
    expect(ids.traceId).toBe(TRACE);
    expect(ids.spanId).toMatch(/^[0-9a-f]{16}$/);
    const [exported] = exporter.getFinishedSpans();
    expect(exported?.attributes).toMatchObject({ 'toolgate.decision.id': 'd1', 'toolgate.decision.outcome': 'allow' });
    expect(exported?.spanContext().spanId).toBe(ids.spanId);
  });
});
