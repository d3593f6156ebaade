import { setImmediate as nextTurn } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect, DetectMemo, DETECTORS, detectYielding, mask, MAX_MATCHES_PER_DETECTOR, scan, scanRequest, scanYielding, SECRET_CLASSES, type Detector } from '../../src/classify/index.js';
import { text } from './pieces.js';

/**
 * A large request's scan is spread over event-loop turns (issue 11: a 1 MiB body of dense digits held the loop
 * 50-60 ms). What it finds must not depend on where it paused, nor on what other scans did with the shared global
 * regexes meanwhile, and the masks after it reuse its results without changing theirs.
 */

/** A pause that, instead of waiting, runs a whole other scan on the shared regexes (as another request would). */
const interleaving = (others: readonly string[]) => {
  let i = 0;
  return async () => {
    if (others.length > 0) detect(others[i++ % others.length]!);
  };
};

describe('detectYielding', () => {
  it('finds what detect finds, paused after any number of matches, with other scans in between', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(text, { maxLength: 3 }), fc.integer({ min: 1, max: 4 }), async (s, others, perTurn) => {
        expect(await detectYielding(s, interleaving(others), DETECTORS, perTurn)).toEqual(detect(s));
      }),
      { numRuns: 1500, seed: 11 },
    );
  });

  it('finds the same past the per-detector cap, where the rest of the string counts as found', async () => {
    const s = 'a@b.cc x '.repeat(MAX_MATCHES_PER_DETECTOR + 50) + 'AKIAIOSFODNN7EXAMPLE 4111 1111 1111 1111';
    const expected = detect(s);
    expect(expected.at(-1)).toMatchObject({ type: 'email', end: s.length });
    expect(await detectYielding(s, interleaving(['jane@example.com AKIAIOSFODNN7EXAMPLE']), DETECTORS, 7)).toEqual(expected);
  });

  it('lets other work run between detectors and between batches of matches in one', async () => {
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    // 27,000 card-like candidates in a MiB of `1 `: one detector pass, many turns.
    const dense = '1 '.repeat(512 * 1024);
    await detectYielding(dense, () => nextTurn());
    ticking = false;
    expect(turns).toBeGreaterThan(DETECTORS.length + 10);
  });
});

// JSON values whose strings and member names are generated detector inputs.
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 4 }),
  object: fc.dictionary(text, tie('node'), { maxKeys: 4 }),
})).node;

describe('scanYielding', () => {
  it('reports what scan reports, whatever the size of a turn', async () => {
    await fc.assert(
      fc.asyncProperty(value, fc.array(text, { maxLength: 2 }), fc.integer({ min: 1, max: 400 }), async (v, others, turnChars) => {
        const expected = scan(v, '/args');
        expect(await scanYielding(v, '/args', { turnChars, matchesPerTurn: 2, pause: interleaving(others) })).toEqual(expected);
      }),
      { numRuns: 700, seed: 11 },
    );
  });

  it('scans a small body in the same turn and a large one over several', async () => {
    const small = { body: 'jane@example.com' };
    expect(scanRequest(small, '/args', JSON.stringify(small).length)).not.toBeInstanceOf(Promise);
    const large = { body: 'jane@example.com '.repeat(10_000) };
    const pending = scanRequest(large, '/args', JSON.stringify(large).length);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual(scan(large, '/args'));
  });

  it('starts a string too long for one turn in a turn of its own, not in the turn that parsed the body', async () => {
    const steps: string[] = [];
    const seen: Detector = { type: 'x', class: 'pii', pattern: /x/g, validate: () => (steps.push('match'), false) };
    await scanYielding('x'.repeat(100), '/args/body', { detectors: [seen], turnChars: 50, pause: async () => void steps.push('pause') });
    expect(steps[0]).toBe('pause');
    expect(steps).toContain('match');
  });
});

describe('DetectMemo', () => {
  // Long strings (the memo keeps only those) with credentials in them, in values and in member names.
  const long = text.map((s) => (s + ' AKIAIOSFODNN7EXAMPLE password = "Zx9Qw8Er7Ty6Ui5Op4As3Df" ').repeat(Math.ceil(DetectMemo.MIN_CHARS / (s.length + 60)) + 1));
  const longValue = fc.dictionary(fc.oneof(long, text), fc.oneof(long, text, fc.array(long, { maxLength: 2 })), { maxKeys: 3 });

  it('masks exactly as a fresh scan would, after a scan that filled it', async () => {
    await fc.assert(
      fc.asyncProperty(longValue, fc.boolean(), async (v, yielding) => {
        const memo = new DetectMemo();
        const findings = yielding ? await scanYielding(v, '/args', { memo, turnChars: 5000 }) : scan(v, '/args', DETECTORS, memo);
        expect(findings).toEqual(scan(v, '/args'));
        const only = new Set(findings.secrets.map((f) => f.pointer));
        const withMemo = mask(v, '/args', { classes: SECRET_CLASSES, only, memo });
        const without = mask(v, '/args', { classes: SECRET_CLASSES, only });
        expect(withMemo.value).toEqual(without.value);
        expect(withMemo.erased).toEqual(without.erased);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it('gives what detect gives for a text it has not seen', () => {
    const memo = new DetectMemo();
    const s = 'jane@example.com 4111 1111 1111 1111 '.repeat(40);
    expect(memo.detect(s)).toEqual(detect(s));
    expect(memo.detect(`${s} `)).toEqual(detect(`${s} `));
    expect(memo.detect('a@b.cc')).toEqual(detect('a@b.cc'));
  });
});
