import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import type { SimulationReport } from '../../src/policy/simulate-types.js';
import { startTestGateway } from '../helpers/gateway.js';
import { buildBundle } from './bundles.js';
import { simulate } from './simulate-cli.js';
import { MARKET_OPEN, recordTraffic } from './simulate-traffic.js';

/** TOOLGATE_SIMULATE_EVENTS overrides the count for a quicker local run; the claim is about a million. */
const EVENTS = Number(process.env.TOOLGATE_SIMULATE_EVENTS ?? 1_000_000);

/**
 * A million recorded decisions (the real gateway's events, repeated with fresh decision ids and times) replayed
 * from a file of about 3 GB: the command must stream it, never hold it, and say how fast it went.
 */
describe(`toolgate policy simulate over ${EVENTS.toLocaleString('en-US')} events`, () => {
  let dir: string;
  let file: string;
  let tighter: string;
  /** Copies of the 5,000 order's decision: approval_required under the demo policy, deny under a 4,000 cap. */
  let expectedChanged = 0;

  beforeAll(async () => {
    tighter = buildBundle({ revision: 'cap-4000', data: (d) => void (d.toolgate.config.trade.max_order_notional = 4_000) });
    const gw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
    let templates: AuditEvent[];
    let changing: AuditEvent | undefined;
    try {
      const traffic = await recordTraffic(gw);
      await gw.close();
      templates = readFileSync(gw.config.audit.file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
      changing = templates.find((e) => e.type === 'decision' && e.decision_id === traffic.midOrder);
    } finally {
      await gw.close();
    }
    dir = mkdtempSync(join(tmpdir(), 'toolgate-simulate-'));
    file = join(dir, 'audit.jsonl');
    const fd = openSync(file, 'w');
    try {
      const start = Date.parse('2026-11-25T00:00:00Z');
      let batch: string[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const t = templates[i % templates.length]!;
        if (t === changing) expectedChanged++;
        batch.push(JSON.stringify({ ...t, decision_id: `sim-${i}`, timestamp: new Date(start + i).toISOString() }));
        if (batch.length === 2_000) {
          writeSync(fd, `${batch.join('\n')}\n`);
          batch = [];
        }
      }
      if (batch.length) writeSync(fd, `${batch.join('\n')}\n`);
    } finally {
      closeSync(fd);
    }
  }, 600_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams the file in bounded memory and reports its speed', async () => {
    const size = statSync(file).size;
    const { code, out } = await simulate(['--candidate', tighter, '--file', file, '--json']);
    const report = JSON.parse(out) as SimulationReport;
    expect(code).toBe(0);
    expect(report.events).toBe(EVENTS);
    expect(report.clear.changed).toBe(expectedChanged);
    expect(report.clear.changes[0]).toMatchObject({ kind: 'decision', tool: 'trade.place', from: { outcome: 'approval_required' }, to: { outcome: 'deny', codes: ['order_too_large'] }, count: expectedChanged });
    expect(report.clear.changes[0]!.examples).toHaveLength(3);
    // Holding the file, or an object per event, would take gigabytes; streaming holds a chunk and counters.
    const growthMb = report.memory.rssPeakMb - report.memory.rssStartMb;
    console.log(`${EVENTS} events, ${(size / 2 ** 20).toFixed(0)} MiB: ${report.eventsPerS} events/s in ${report.elapsedS} s; RSS ${report.memory.rssStartMb} -> ${report.memory.rssPeakMb} MB (+${growthMb.toFixed(1)})`);
    expect(growthMb).toBeLessThan(128);
    expect(growthMb * 2 ** 20).toBeLessThan(size / 8);
    expect(report.eventsPerS).toBeGreaterThan(0);
  }, 900_000);
});
