import { describe, expect, it } from 'vitest';
import { BREAK_GLASS_ERRORS, createBreakGlassVerifier, generateBreakGlassKey, issueBreakGlass } from '../../src/breakglass/index.js';
import type { BreakGlassFacts } from '../../src/policy/types.js';
import { prng, signRaw, T0, T0_S } from './helpers.js';

const admin = generateBreakGlassKey();
const verifier = createBreakGlassVerifier({ adminJwks: admin.publicJwks, now: () => T0 + 1000 });
const valid = issueBreakGlass({ privateJwk: admin.privateJwk, who: 'alice', why: 'incident 42', ttlS: 3600, scopes: ['trade.place', '*'], now: () => T0 }).token;
const ERRORS: ReadonlySet<string> = new Set(BREAK_GLASS_ERRORS);

/** Whatever goes in, check() returns null (no header) or well-formed facts, and never throws. */
function checked(input: unknown): BreakGlassFacts | null {
  let facts: BreakGlassFacts | null = null;
  expect(() => {
    facts = verifier.check(input as string);
  }).not.toThrow();
  const f = facts as BreakGlassFacts | null;
  if (input === undefined) expect(f).toBeNull();
  else {
    expect(f).not.toBeNull();
    if (f?.valid) {
      expect(typeof f.who).toBe('string');
      expect(typeof f.why).toBe('string');
      expect(Number.isNaN(Date.parse(f.until ?? ''))).toBe(false);
      expect(Array.isArray(f.scopes) && f.scopes.every((s) => typeof s === 'string' && s !== '')).toBe(true);
    } else {
      expect(ERRORS.has(f?.error ?? '')).toBe(true);
    }
  }
  return f;
}

const rand = prng(0x7467_6267);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
const ALPHABETS = ['tgbg1.', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '.=+/ \t\r\n\u0000\u00ff', '💥\ud800\udfffé漢'];

function randomString(max: number): string {
  const alphabet = pick(ALPHABETS) + pick(ALPHABETS);
  let s = '';
  const n = int(max);
  for (let i = 0; i < n; i += 1) s += alphabet[int(alphabet.length)];
  return s;
}

function mutate(token: string): string {
  const i = int(token.length);
  switch (int(6)) {
    case 0:
      return token.slice(0, i) + randomString(3) + token.slice(i + 1);
    case 1:
      return token.slice(0, i) + token.slice(i + 1);
    case 2:
      return token.slice(0, i);
    case 3:
      return token.slice(0, i) + randomString(8) + token.slice(i);
    case 4:
      return token.split('.').reverse().join('.');
    default:
      return `${token}${pick(['.', '.x', '=', ' ', '..', token])}`;
  }
}

const WEIRD: readonly unknown[] = [
  undefined, null, true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, '', ' ', '*', 'x'.repeat(5000),
  [], [''], ['*'], [1, 2], [null], Array.from({ length: 100 }, () => 'a'), {}, { a: 1 }, T0_S, T0_S + 60, 'trade.place',
];

function weirdClaims(): unknown {
  const base: Record<string, unknown> = { v: 1, who: 'a', why: 'b', iat: T0_S, exp: T0_S + 60, scopes: ['x'], jti: 'j', kid: admin.thumbprint };
  const doc: Record<string, unknown> = { ...base };
  // Break one to three members (sometimes none: the valid path must stay reachable).
  for (let k = int(4); k > 0; k -= 1) doc[pick(Object.keys(base))] = pick(WEIRD);
  if (int(10) === 0) return pick(WEIRD);
  return doc;
}

describe('break-glass verifier under hostile input', () => {
  it('random strings (2000 cases)', () => {
    for (let i = 0; i < 2000; i += 1) expect(checked(randomString(int(10) === 0 ? 3000 : 120))?.valid).not.toBe(true);
  });

  it('mutations of a valid token (2000 cases): only the unchanged token passes', () => {
    expect(checked(valid)?.valid).toBe(true);
    for (let i = 0; i < 2000; i += 1) {
      const m = mutate(valid);
      const f = checked(m);
      if (f?.valid) expect(m.trim()).toBe(valid);
    }
  });

  it('correctly signed payloads with wrong types and values (2000 cases)', () => {
    let passed = 0;
    for (let i = 0; i < 2000; i += 1) {
      const f = checked(signRaw(weirdClaims(), admin.privateJwk));
      if (f?.valid) passed += 1;
    }
    expect(passed).toBeGreaterThan(0);
  });

  it('values that are not strings at all', () => {
    for (const v of [null, 42, {}, [], ['tgbg1.a.b'], Buffer.from(valid), Symbol('x'), () => valid, new String(valid)]) {
      expect(checked(v)).toEqual({ valid: false, error: 'malformed' });
    }
  });

  it('huge input is refused without parsing', () => {
    const huge = `tgbg1.${'A'.repeat(10 * 1024 * 1024)}.${'A'.repeat(86)}`;
    const started = performance.now();
    expect(checked(huge)).toEqual({ valid: false, error: 'malformed' });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
