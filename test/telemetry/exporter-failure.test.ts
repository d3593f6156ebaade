import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A collector that never answers (accepts the connection, then hangs) must neither break nor slow requests:
 * export is batched off the request path and bounded by its own timeout.
 */
describe('a dead or hanging OTLP endpoint', () => {
  let hanging: Server;
  let telemetry: Telemetry;
  let gw: TestGateway;
  beforeAll(async () => {
    hanging = createServer(() => undefined); // never responds
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const port = (hanging.address() as { port: number }).port;
    telemetry = setupTelemetry({ serviceName: 'toolgate-dead-exporter', otlpEndpoint: `http://127.0.0.1:${port}`, exportMetrics: true, metricIntervalMs: 100 });
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.race([telemetry?.shutdown(), new Promise((r) => setTimeout(r, 6000))]);
    hanging.closeAllConnections();
    hanging.close();
  });

  it('keeps answering every call promptly', async () => {
    const agent = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      const r = await agent.callTool('email.send', { to: ['x@evil.example'], subject: `s${i}`, body: 'b' });
      latencies.push(performance.now() - t);
      expect(r.status).toBe(403);
    }
    latencies.sort((a, b) => a - b);
    // Export attempts time out after 5 s; requests must not wait on them (generous bound for a shared machine).
    expect(latencies[Math.floor(latencies.length * 0.95)]).toBeLessThan(1000);
  });
});
