import { describe, expect, it } from 'vitest';
import { detect } from '../../src/classify/index.js';
import { buildHostile, detectCpuMs as cpuMs, HOSTILE_SHAPES } from '../../src/bench/hostile-inputs.js';

const KiB = 1024;

/**
 * The detectors' worst inputs (src/bench/hostile-inputs.ts: the issue's reports, recheck's attacks on the old
 * patterns, the bench search's finds) scan in linear time. Sizes grow 4x at a time, small first, so a quadratic
 * regression fails on the 16 -> 64 KiB step in about a second instead of hanging on 1 MiB (the old patterns took
 * seconds on 64 KiB of `seed phrase` + spaces). Linear is 4x per step, quadratic 16x: the bound is 8x, with a
 * 1 ms floor so timer granularity on tiny inputs cannot fail it. 1 MiB stays under 1 s of CPU on a loaded
 * 2-core machine (about 5-45 ms when it is quiet).
 */
describe('detectors on their worst inputs', () => {
  it.each(HOSTILE_SHAPES.map((s) => [s.name, s] as const))('%s: linear up to 1 MiB', (_name, shape) => {
    detect(buildHostile(shape, 4 * KiB)); // compile the regexes before timing
    let previous = cpuMs(buildHostile(shape, 16 * KiB), 3);
    for (const size of [64 * KiB, 256 * KiB, 1024 * KiB]) {
      const ms = cpuMs(buildHostile(shape, size), size >= 1024 * KiB ? 3 : 5);
      expect(ms, `${size / KiB} KiB took ${ms.toFixed(1)} ms after ${previous.toFixed(1)} ms for a quarter of it`).toBeLessThan(8 * Math.max(previous, 1));
      previous = ms;
    }
    expect(previous, '1 MiB').toBeLessThan(1000);
  }, 60_000);
});
