import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { checkTargets, HOSTILE_BODY_BYTES, HOSTILE_CHECK, HOSTILE_SHAPES, parseBenchOptions, runBench, toMarkdown, type BenchResults } from '../../src/bench/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';

/**
 * Keeps `make bench` from rotting: the real harness (child servers, OPA sidecar, autocannon, WASM engine) with
 * ~0.5 s per target. It asserts that every target produced numbers, never the targets themselves: the machine
 * is shared with the rest of the suite while this runs.
 */
describe('bench harness', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'toolgate-bench-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('measures all five targets with tiny durations', async () => {
    const options = {
      ...parseBenchOptions([], {}),
      rounds: 1,
      durationS: 0.5,
      warmupS: 0,
      wasmIterations: 200,
      wasmWarmup: 50,
      hostileSearch: 20,
      outDir,
      policyBundle: POLICY_BUNDLE,
      opa: process.env.TOOLGATE_OPA,
    };
    const results: BenchResults = await runBench(options);
    for (const target of ['bare', 'pipeline', 'sidecar'] as const) {
      const r = results.http[target];
      expect(r, target).toBeDefined();
      expect(r!.rps, `${target} req/s`).toBeGreaterThan(0);
      expect(r!.p50Ms, `${target} p50`).toBeGreaterThan(0);
      expect(r!.p99Ms, `${target} p99`).toBeGreaterThanOrEqual(r!.p50Ms);
      expect(r!.rounds[0]!.non2xx).toBe(0);
    }
    expect(results.wasm!.p50Us).toBeGreaterThan(0);
    expect(results.wasm!.p99Us).toBeGreaterThanOrEqual(results.wasm!.p50Us);
    const hostile = results.hostile!;
    expect(hostile.cases.length).toBeGreaterThan(HOSTILE_SHAPES.length);
    for (const c of hostile.cases) {
      expect(c.bodyBytes, c.name).toBeLessThanOrEqual(HOSTILE_BODY_BYTES);
      expect(c.bodyBytes, c.name).toBeGreaterThan(HOSTILE_BODY_BYTES - 64);
      expect([200, 403], `${c.name}: ${c.status}`).toContain(c.status);
      expect(c.loopMaxMs, c.name).toBeGreaterThan(0);
    }
    expect(results.checks.map((c) => c.name)).toEqual(['full pipeline vs bare Express', 'full pipeline vs OPA REST sidecar', 'WASM evaluate p50', HOSTILE_CHECK]);
    const md = toMarkdown(results);
    expect(md).toContain('| target | req/s (median) | p50 | p99 | ratio vs target |');
    const [main, hostileMd] = md.split('### Hostile bodies');
    expect(main!.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| target'))).toHaveLength(4);
    expect(hostileMd!.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| input'))).toHaveLength(hostile.cases.length);
  }, 180_000);

  it('reads flags over environment variables and refuses bad values with the fix', () => {
    const o = parseBenchOptions(['--rounds', '2', '--only', 'wasm,bare'], { BENCH_ROUNDS: '7', BENCH_DURATION_S: '1.5' });
    expect(o).toMatchObject({ rounds: 2, durationS: 1.5, warmupS: 2, connections: 10, hostileSearch: 300, targets: ['bare', 'wasm'] });
    expect(() => parseBenchOptions(['--only', 'opa'], {})).toThrow(ConfigError);
    expect(() => parseBenchOptions([], { BENCH_ROUNDS: '0' })).toThrow(/BENCH_ROUNDS=0/);
    expect(() => parseBenchOptions(['--durations', '1'], {})).toThrow(/durations/);
  });

  it('marks a missed target without failing', () => {
    const round = { rps: 100, p50Ms: 1, p99Ms: 2, ok: 1, non2xx: 0, errors: 0, durationS: 1, signedInline: 0 };
    const http = (rps: number, target: 'bare' | 'pipeline' | 'sidecar') => ({ target, rounds: [{ ...round, rps }], rps, p50Ms: 1, p99Ms: 2 });
    const checks = checkTargets({ bare: http(1000, 'bare'), pipeline: http(400, 'pipeline'), sidecar: http(100, 'sidecar') }, { target: 'wasm', iterations: 1, rounds: [], p50Us: 12, p99Us: 40 });
    expect(checks.map((c) => [c.name, c.met])).toEqual([
      ['full pipeline vs bare Express', false],
      ['full pipeline vs OPA REST sidecar', true],
      ['WASM evaluate p50', true],
    ]);
  });
});
