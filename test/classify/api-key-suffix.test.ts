import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect, detectYielding, DETECTORS, type Detector } from '../../src/classify/detectors.js';

/** The api_key detector as it was: its value an unbounded run in the regex itself, no suffix. */
const UNBOUNDED: readonly Detector[] = DETECTORS.map((d) => {
  if (d.type !== 'api_key') return d;
  const { suffix: _suffix, ...rest } = d;
  return { ...rest, pattern: /\b(?:api[_-]?key|secret|token|password|passwd)\s*[:=]\s*["']?[A-Za-z0-9_\-+/=]{16,}/gi };
});

/** Text made of what the api_key pattern cares about, with value runs on both sides of the regex's 256 cap. */
const pieces = fc.array(
  fc.oneof(
    fc.constantFrom('token', 'API_KEY', 'api-key', 'Secret', 'passwd', '=', ':', ' ', '\t', '"', "'", '\n', 'ſ', 'K', 'é', '.', ','),
    fc.constantFrom('A', 'b', '9', '+', '/', '-', '_', '='),
    fc.tuple(fc.string({ unit: fc.constantFrom(...'Zq8x+/=_-AbC0'.split('')), minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 30 })).map(([s, n]) => s.repeat(n)),
    // An assignment with a random value (entropy about 3.7 bits, a finding) of 0-600 characters.
    fc.tuple(
      fc.constantFrom('token', 'api_key', 'SECRET', 'password'),
      fc.constantFrom('=', ':', ' = ', ': "', "='"),
      // The length drawn first: fast-check's default size would keep every string short, under the cap.
      fc.integer({ min: 0, max: 600 }).chain((n) => fc.string({ unit: fc.constantFrom(...'Zq8x+/=_-AbC0kM'.split('')), minLength: n, maxLength: n })),
    ).map((parts) => parts.join('')),
  ),
  { maxLength: 40 },
).map((parts) => parts.join(''));

describe('api_key: the value run capped in the regex and walked on by suffix', () => {
  it('finds exactly what the unbounded pattern found, in one turn and over many', async () => {
    await fc.assert(
      fc.asyncProperty(pieces, fc.integer({ min: 1, max: 4 }), async (text, perTurn) => {
        const expected = detect(text, UNBOUNDED);
        expect(detect(text)).toEqual(expected);
        expect(await detectYielding(text, () => Promise.resolve(), DETECTORS, perTurn)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('a MiB of `token=` is one match again, found without a MiB-long regex search', () => {
    const text = 'token='.repeat(Math.floor((1 << 20) / 6));
    const started = performance.now();
    const found = detect(text);
    const ms = performance.now() - started;
    expect(found).toEqual(detect(text, UNBOUNDED)); // no finding: the repeated value's entropy is low
    // Generous bound for a loaded machine: the unbounded search alone took 25-30 ms here, and the scan with it 37 ms.
    expect(ms).toBeLessThan(200);
  });

  it('a long random value is one finding covering all of it', () => {
    const value = Array.from({ length: 3000 }, (_, i) => 'Zq8xAbC0+/_-'[(i * 7919) % 12]).join('');
    const text = `config token = "${value}" end`;
    const found = detect(text).filter((m) => m.type === 'api_key');
    expect(found).toEqual(detect(text, UNBOUNDED).filter((m) => m.type === 'api_key'));
    expect(found).toHaveLength(1);
    expect(text.slice(found[0]!.start, found[0]!.end).endsWith(value)).toBe(true);
  });
});
