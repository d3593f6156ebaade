import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '../../src/classify/index.js';
import { PIECES, text } from './pieces.js';
import { referenceDetect } from './reference-detectors.js';

/**
 * The linear detectors find exactly what the old ones found, wherever the old ones finish: generated text made
 * of pieces of every kind of finding (and the characters that sit next to them) gets the same matches, types
 * and offsets from both. The only intended difference, the cap on findings per string, is far above these sizes.
 */
// Structures around the boundaries the linear patterns find in code (JWT header, e-mail local part): runs one
// below and at each minimum length, glued with `-`, `_`, `.` and `%`, in the shape of a JWT or an address.
const run = (pieces: string[]) => fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((parts) => parts.join(''));
const tokenRun = run(['eyJ', 'a', 'b1', '1234567', '12345678', '-', '_', 'x-eyJ', 'x-eyJ12345678', '.']);
const jwtLike = fc.tuple(tokenRun, fc.constantFrom('.eyJ', '.', '.ey'), tokenRun, fc.constantFrom('.', ''), tokenRun).map((p) => p.join(''));
const localRun = run(['a', 'b.', '.', '%', '-', '+', '_', 'x'.repeat(30), ' ', '(']);
const emailLike = fc.tuple(localRun, fc.constantFrom('@', '@@', ''), run(['a', 'b-', '.', 'x.co', 'y.com']), fc.constantFrom('.co', '.c', '', '-')).map((p) => p.join(''));
const boundaries = fc.array(fc.oneof(jwtLike, emailLike, fc.constantFrom(...PIECES)), { maxLength: 8 }).map((parts) => parts.join(''));
const chars = fc.string({ unit: fc.constantFrom(...'aeyJk-_.@ 1234:=+(){}sxo'.split('')), maxLength: 200 });

describe('linear detectors vs the previous ones', () => {
  it('find the same matches in generated text', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(detect(s)).toEqual(referenceDetect(s));
      }),
      { numRuns: 3000, seed: 8 },
    );
  });

  it('find the same matches around token and e-mail boundaries', () => {
    fc.assert(
      fc.property(boundaries, (s) => {
        expect(detect(s)).toEqual(referenceDetect(s));
      }),
      { numRuns: 10_000, seed: 8 },
    );
  });

  it('find the same matches in generated character soup', () => {
    fc.assert(
      fc.property(chars, (s) => {
        expect(detect(s)).toEqual(referenceDetect(s));
      }),
      { numRuns: 3000, seed: 8 },
    );
  });
});
