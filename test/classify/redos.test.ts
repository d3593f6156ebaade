import { check } from 'recheck';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../src/classify/index.js';

/**
 * Every detector pattern is free of super-linear backtracking, as recheck judges it. Anything but `safe` fails:
 * `vulnerable` with the attack string recheck found, `unknown` with its reason (a timeout counts as a failure,
 * hence the generous budget on a loaded machine). The fuzz checker, seeded: it finds the attacks on the old
 * jwt, seed_phrase and email patterns in about a second each and checks all patterns in ~15 s, where recheck's
 * automaton analysis, which proves each of them linear, takes up to two minutes for one (jwt) on this machine.
 */
describe('detector patterns (ReDoS)', () => {
  it.each(DETECTORS.map((d) => [d.type, d.pattern] as const))('%s is safe', async (_type, pattern) => {
    const result = await check(pattern.source, pattern.flags, { checker: 'fuzz', randomSeed: 8, timeout: 120_000 });
    const detail =
      result.status === 'vulnerable'
        ? `${result.complexity.summary}; attack: ${result.attack.pattern}`
        : result.status === 'unknown'
          ? `unknown: ${result.error.kind}`
          : result.complexity.summary;
    expect(`${result.status} (${detail})`).toMatch(/^safe /);
  }, 180_000);
});
