import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, PolicyEngine, type PolicyInput } from '../../src/policy/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';

/** The allowed email.send fixture the WASM benchmark uses. */
const input = JSON.parse(readFileSync('test/fixtures/policy/inputs/email-send-allow.json', 'utf8')) as PolicyInput;
const N = Number(process.env.TOOLGATE_OVERHEAD_N ?? 2_000);

const p50 = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

/**
 * What the worker threads cost per decision, measured (README, Benchmarks quotes a run with TOOLGATE_OVERHEAD_N=20000):
 * latency of one decision at a time on the event loop and in a worker, and the event loop's own busy time per
 * decision in a worker (serialising the input, posting it, reading the answer). Asserts only a loose bound: the
 * machine is shared.
 */
describe('worker thread overhead per decision', () => {
  let inline: PolicyEngine;
  let pooled: PolicyEngine;
  beforeAll(async () => {
    const bundle = await loadBundle(POLICY_BUNDLE);
    inline = await PolicyEngine.load(bundle, 'overhead', { workers: 0 });
    pooled = await PolicyEngine.load(bundle, 'overhead', { workers: 2 });
  });
  afterAll(() => pooled.close());

  it('costs well under a millisecond', async () => {
    const onLoop: number[] = [];
    const inWorker: number[] = [];
    for (let i = 0; i < N / 4; i++) {
      inline.evaluate(input);
      await pooled.decide(input);
    }
    for (let i = 0; i < N; i++) {
      let t = performance.now();
      inline.evaluate(input);
      onLoop.push((performance.now() - t) * 1000);
      t = performance.now();
      await pooled.decide(input);
      inWorker.push((performance.now() - t) * 1000);
    }
    const elu = performance.eventLoopUtilization();
    const started = performance.now();
    await Promise.all(Array.from({ length: N }, () => pooled.decide(input)));
    const busy = performance.eventLoopUtilization(elu);
    const report = {
      on_loop_p50_us: Math.round(p50(onLoop)),
      worker_p50_us: Math.round(p50(inWorker)),
      loop_busy_per_worker_decision_us: Math.round((busy.active * 1000) / N),
      worker_throughput_per_s: Math.round(N / ((performance.now() - started) / 1000)),
    };
    console.log(JSON.stringify(report));
    expect(report.worker_p50_us - report.on_loop_p50_us).toBeLessThan(1_000);
  });
});
