import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '../../src/classify/index.js';
import { referenceDetect } from './reference-detectors.js';

/**
 * The linear detectors find exactly what the old ones found, wherever the old ones finish: generated text made
 * of pieces of every kind of finding (and the characters that sit next to them) gets the same matches, types
 * and offsets from both. The only intended difference, the cap on findings per string, is far above these sizes.
 */
const PIECES = [
  // e-mail addresses and parts of them
  'jane.doe@example.com', 'a@b.co', 'x..y@sub.domain.org', '@', '@@', 'user+tag@', '.com', '.c', 'mail.', '%',
  // tokens and key-like runs
  'AKIAIOSFODNN7EXAMPLE', 'AKIA', 'ghp_', 'github_pat_', 'xoxb-', 'sk_live_', 'sk-', 'sk-proj-', 'AIza', 'a1B2c3D4e5',
  'abcdefghijklmnop', 'Zx9Qw8Er7Ty6Ui5Op4As3Df', '0123456789', 'eyJ', 'eyJhbGciOiJIUzI1NiJ9', '.eyJ', '.', '-', '_', '--',
  '-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEvQIBADAN',
  'api_key', 'token', 'Password', 'secret', ':', '=', '"', "'", '= "',
  // seed phrases
  'seed phrase', 'recovery words', 'mnemonic word', 'abandon', 'ability', 'able', 'zoo', 'abandonment',
  // numbers: cards, SSNs, phones, IBANs
  '4111 1111 1111 1111', '4111111111111111', '123-45-6789', '000-12-3456', '+1 (555) 123-4567', '555.123.4567', '+',
  '(', ')', '1', '12', '123', '1234', 'DE89 3704 0044 0532 0130 00', 'DE89370400440532013000', 'GB', 'DE89',
  // words and separators
  'Hi', 'the', 'receipts', ' ', ' ', '  ', '\t', '\n', ', ', '<', '>', '/', 'é',
];

const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 60 }).map((parts) => parts.join(''));
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
