import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { checkTargets, halfSlopes, parseBenchOptions, rssKiB, slope, toMarkdown, type BenchResults, type SoakResult } from '../../src/bench/index.js';

describe('bench soak (RSS over a long run)', () => {
  it('runs in the default run, with 1,000,000 calls unless told otherwise', () => {
    expect(parseBenchOptions([], {}).targets).toContain('soak');
    expect(parseBenchOptions(['--only', 'soak'], {})).toMatchObject({ targets: ['soak'], soakCalls: 1_000_000 });
    expect(parseBenchOptions(['--only', 'soak', '--soak-calls', '200000'], {}).soakCalls).toBe(200_000);
    expect(parseBenchOptions(['--only', 'soak'], { BENCH_SOAK_CALLS: '300000' }).soakCalls).toBe(300_000);
    expect(() => parseBenchOptions(['--soak-calls', '10'], {})).toThrow(ConfigError);
  });

  it('reports the least-squares slope, so a steady leak shows and noise around a level does not', () => {
    const leak = Array.from({ length: 20 }, (_, i) => [i * 10_000, 200_000 + i * 10 + (i % 2 ? 3 : -3)] as const);
    expect(slope(leak) * 100_000).toBeCloseTo(100, 0);
    const flat = Array.from({ length: 20 }, (_, i) => [i * 10_000, 200_000 + (i % 2 ? 500 : -500)] as const);
    expect(Math.abs(slope(flat) * 100_000)).toBeLessThan(100); // ±500 KiB of noise: a slope of well under 1 byte per call
    expect(slope([[0, 1]])).toBeNaN();
  });

  it('gives each half its own slope: a leak climbs in both, a level that steps up and back down does not', () => {
    const leak = Array.from({ length: 21 }, (_, i) => [i * 10_000, 200_000 + i * 10] as const);
    const [a, b] = halfSlopes(leak).map((v) => v * 100_000);
    expect(a).toBeCloseTo(100, 6);
    expect(b).toBeCloseTo(100, 6);
    // RSS up 50 MiB in the middle of the run and back down by its end: one slope over the whole reads near 0 or a
    // small trend, the halves +/- tens of MiB per 100,000 calls.
    const bump = Array.from({ length: 21 }, (_, i) => [i * 10_000, 200_000 + 51_200 * (1 - Math.abs(i - 10) / 10)] as const);
    const [up, down] = halfSlopes(bump).map((v) => v * 100_000);
    expect(up).toBeGreaterThan(40_000);
    expect(down).toBeLessThan(-40_000);
    expect(halfSlopes([[0, 1], [1, 2]]).every(Number.isNaN)).toBe(true);
  });

  it('reads this process\'s RSS', () => {
    expect(rssKiB(process.pid)).toBeGreaterThan(1024);
  });

  it('puts the slope in the report', () => {
    const results = {
      startedAt: 'now',
      machine: { cpus: 2, cpuModel: 'x', node: 'v26', opa: null },
      options: parseBenchOptions(['--only', 'soak'], {}),
      http: [],
      wasm: undefined,
      checks: [],
      soak: { calls: 400_000, seconds: 400, warmupCalls: 310_000, rssStartKiB: 143_000, rssAfterWarmupKiB: 300_000, rssEndKiB: 301_000, rssMaxKiB: 310_000, slopeKiBPer100k: 512.4, halfSlopesKiBPer100k: [2048.4, -1024.2], liveSlopeKiBPer100k: -20.2, samples: [], live: [{ calls: 100_000, heapUsedKiB: 61_440, heapTotalKiB: 102_400, externalKiB: 10_240, rssKiB: 250_000, replayKiB: 5_120 }, { calls: 200_000, heapUsedKiB: 61_440, heapTotalKiB: 102_400, externalKiB: 10_240, rssKiB: 250_000 }] },
    } as unknown as BenchResults;
    const md = toMarkdown(results);
    expect(md).toContain('**512 KiB per 100,000 calls**');
    expect(md).toContain('over their first half 2,048 KiB per 100,000 calls, over their second -1,024 KiB per 100,000 calls');
    expect(md).toContain('slope after warm-up: **-20 KiB per 100,000 calls**');
    expect(md).toContain('| 100,000 | 60.0 MiB | 10.0 MiB | 5.0 MiB | 100.0 MiB | 244.1 MiB |');
    expect(md).toContain('| 200,000 | 60.0 MiB | 10.0 MiB | n/a | 100.0 MiB | 244.1 MiB |'); // a server without a replay store
  });

  it('judges "RSS flat" by the slope: at most 1 MiB per 100,000 calls', () => {
    const soak = (slopeKiBPer100k: number) => ({ slopeKiBPer100k }) as unknown as SoakResult;
    const judged = (s: number) => checkTargets([], undefined, undefined, undefined, soak(s)).find((c) => c.name.includes('RSS'));
    expect(judged(300)).toMatchObject({ met: true, required: 1024 });
    expect(judged(5000)).toMatchObject({ met: false });
    expect(judged(Number.NaN)).toBeUndefined(); // too short a run to have a slope judges nothing
  });
});
