import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulationReport } from '../../src/policy/simulate-types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { consumeDecisions } from '../helpers/kafka.js';
import { services } from '../helpers/services.js';
import { buildBundle } from './bundles.js';
import { simulate } from './simulate-cli.js';
import { MARKET_OPEN, recordTraffic, type Traffic } from './simulate-traffic.js';

/** The same replay, read off the real audit topic the gateway produced to. */
describe('toolgate policy simulate --brokers (the real Kafka topic)', () => {
  const svc = services();
  const topic = `toolgate.audit.simulate.${randomBytes(4).toString('hex')}`;
  let gw: TestGateway;
  let traffic: Traffic;
  let tighter: string;

  beforeAll(async () => {
    tighter = buildBundle({ revision: 'cap-4000', data: (d) => void (d.toolgate.config.trade.max_order_notional = 4_000) });
    gw = await startTestGateway({ TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','), TOOLGATE_AUDIT_TOPIC: topic, TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
    traffic = await recordTraffic(gw);
    await consumeDecisions(svc.kafkaBrokers, topic, [traffic.midOrder, traffic.bigOrder, ...traffic.smallOrders, traffic.maskedEmail, ...traffic.plain, traffic.unsigned]);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const run = async (...args: string[]) => {
    const { code, out } = await simulate(['--candidate', tighter, '--brokers', svc.kafkaBrokers.join(','), '--topic', topic, '--json', ...args]);
    return { code, report: JSON.parse(out) as SimulationReport };
  };

  it('reports the tighter cap as approval_required -> deny and exits 1 past --max-changed', async () => {
    const { code, report } = await run('--max-changed', '0');
    expect(report.source).toBe(`${svc.kafkaBrokers.join(',')}/${topic}`);
    expect(report.clear.changes).toEqual([
      { kind: 'decision', tool: 'trade.place', from: { outcome: 'approval_required', codes: ['order_above_approval_threshold'] }, to: { outcome: 'deny', codes: ['order_too_large'] }, count: 1, examples: [traffic.midOrder] },
    ]);
    expect(report.clear.replayed).toBe(traffic.plain.length + traffic.smallOrders.length + 2);
    expect(report.masked).toMatchObject({ replayed: 1, changed: 0 });
    expect(report.skipped.noInput).toBe(1);
    expect(code).toBe(1);
  });

  it('replays only the window --since/--until selects', async () => {
    // The gateway's clock stood at MARKET_OPEN, so every event is stamped within its first millisecond.
    const before = await run('--until', '2026-11-25T15:00:00Z');
    expect(before.report.clear.replayed + before.report.masked.replayed).toBe(0);
    expect(before.report.skipped.outsideWindow).toBe(before.report.events - before.report.skipped.notDecisions);
    const during = await run('--since', '2026-11-25T15:00:00Z', '--until', '2026-11-25T15:00:01Z');
    expect(during.report.clear.changed).toBe(1);
    expect(during.report.skipped.outsideWindow).toBe(0);
  });
});
