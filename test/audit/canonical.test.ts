import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalAround, canonicalJson, INSERTION_SORT_MAX, RECURSION_LIMIT } from '../../src/audit/canonical.js';

// Audit hashes are computed over this output: it must never change, whatever the implementation. The expected
// strings were produced by the original entries/filter/sort/map/join implementation (kept below as `reference`).
const sparse: unknown[] = [1];
sparse[2] = 3;

const PINNED: readonly [string, unknown, string][] = [
  ['primitives', [null, true, false, 0, -0, 1.5, 1e21, 1e-7, NaN, Infinity, -Infinity, undefined], '[null,true,false,0,0,1.5,1e+21,1e-7,null,null,null,null]'],
  ['escapes', ['', 'a"b\\c\n\t\u0000\u001f\u007f', 'é ü 😀 \u2028\u2029', '\ud800 lone'], '["","a\\"b\\\\c\\n\\t\\u0000\\u001f\u007f","é ü 😀 \u2028\u2029","\\ud800 lone"]'],
  [
    'key order (code units, integer-like keys included)',
    { b: 1, a: 2, B: 3, '10': 4, '9': 5, '': 6, 'a b': 7, é: 8, '😀': 9, '\uffff': 10, 'a"q': 11, '\n': 12 },
    '{"":6,"\\n":12,"10":4,"9":5,"B":3,"a":2,"a b":7,"a\\"q":11,"b":1,"é":8,"😀":9,"\uffff":10}',
  ],
  ['undefined members dropped, undefined elements null', { a: undefined, b: [undefined, () => 1, Symbol('s')], c: { d: undefined } }, '{"b":[null,null,null],"c":{}}'],
  ['functions and symbols as members', { f: () => 1, s: Symbol('x') }, '{"f":null,"s":null}'],
  ['nesting', { z: [{ y: [[], {}], x: null }], a: { c: { b: 'deep' } } }, '{"a":{"c":{"b":"deep"}},"z":[{"x":null,"y":[[],{}]}]}'],
  [
    'non-plain objects by their own enumerable keys, toJSON ignored',
    { date: new Date(0), map: new Map([[1, 2]]), set: new Set([1]), typed: new Uint8Array([1, 2]), boxed: new String('ab'), toJson: { toJSON: () => 'x', k: 1 } },
    '{"boxed":{"0":"a","1":"b"},"date":{},"map":{},"set":{},"toJson":{"k":1,"toJSON":null},"typed":{"0":1,"1":2}}',
  ],
  ['sparse array holes render empty', sparse, '[1,,3]'],
];

function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

/** Deterministic pseudo-random values (xorshift), mixing the shapes audit events carry with awkward keys and strings. */
function randomValue(seed: { s: number }, depth: number): unknown {
  const next = () => {
    seed.s ^= seed.s << 13;
    seed.s ^= seed.s >>> 17;
    seed.s ^= seed.s << 5;
    return (seed.s >>> 0) / 0x1_0000_0000;
  };
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => String.fromCharCode([0x22, 0x5c, 0x0a, 0x41, 0x61, 0xe9, 0x2028, 0xd83d, 0x30][Math.floor(next() * 9)] ?? 0x61)).join('');
  const pick = Math.floor(next() * (depth > 3 ? 6 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return next() < 0.5;
    case 2: return [0, -0, 1.25, 1e21, NaN, -7][Math.floor(next() * 6)];
    case 3: return text();
    case 4: return undefined;
    case 5: return Math.floor(next() * 1e9);
    case 6: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(seed, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [text(), randomValue(seed, depth + 1)]));
  }
}

describe('canonicalJson output is pinned', () => {
  it.each(PINNED)('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
    expect(reference(value)).toBe(expected);
  });

  it('matches the reference implementation on 5,000 random values', () => {
    const seed = { s: 0x2545f491 };
    for (let i = 0; i < 5000; i++) {
      const value = randomValue(seed, 0);
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });

  it('gives the same output on both sides of the recursive walk\'s depth limit, and for nesting no call stack holds', () => {
    const seed = { s: 0x1b873593 };
    for (let extra = -3; extra <= 3; extra++) {
      for (let i = 0; i < 50; i++) {
        // Random values under a chain of objects and arrays that crosses RECURSION_LIMIT at a different place each time.
        let value: unknown = randomValue(seed, 0);
        for (let d = 0; d < RECURSION_LIMIT + extra; d++) value = d % 2 ? [value, d] : { [`k${d % 3}`]: value, z: undefined };
        expect(canonicalJson(value)).toBe(reference(value));
      }
    }
    let deep: unknown = 'leaf';
    for (let d = 0; d < 100_000; d++) deep = d % 2 ? [deep] : { a: deep };
    const text = canonicalJson(deep);
    expect(text.startsWith('[{"a":[{"a":')).toBe(true);
    expect(text.length).toBe(100_000 / 2 * '{"a":[]}'.length + '"leaf"'.length);
    expect(text.slice(text.indexOf('"leaf"') - 6, text.indexOf('"leaf"') + 9)).toBe('[{"a":"leaf"}]}');
  });

  it('orders any set of keys as the reference does, on both sides of the insertion sort\'s limit, in both walks', () => {
    // Keys from a small alphabet of awkward code units, so prefixes, near-duplicates and surrogates meet often.
    const key = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '0', '9', '"', '\\', '\n', 'é', '\uffff', '\ud83d', '\ude00', ' '), maxLength: 4 });
    const record = fc.uniqueArray(key, { maxLength: 2 * INSERTION_SORT_MAX + 8 }).map((keys) => Object.fromEntries(keys.map((k, i) => [k, i % 7 === 3 ? undefined : i])));
    fc.assert(
      fc.property(record, (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
        let nested: unknown = value; // past RECURSION_LIMIT: the iterative walk sorts the same keys
        for (let d = 0; d <= RECURSION_LIMIT; d++) nested = { n: nested };
        expect(canonicalJson(nested)).toBe(reference(nested));
        const { before, after } = canonicalAround(value, 'b');
        expect(`{${[before, after].filter(Boolean).join(',')}}`).toBe(reference({ ...value, b: undefined }));
      }),
      { numRuns: 600 },
    );
  });

  it('sorts an object of thousands of keys in reverse order in about the time of one already in order (no quadratic sort)', () => {
    const n = 20_000;
    const names = Array.from({ length: n }, (_, i) => `k${String(i).padStart(6, '0')}`);
    const ordered = Object.fromEntries(names.map((k) => [k, 1]));
    const reversed = Object.fromEntries([...names].reverse().map((k) => [k, 1]));
    const time = (value: object) => {
      const runs: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t = process.cpuUsage();
        canonicalJson(value);
        const d = process.cpuUsage(t);
        runs.push(d.user + d.system);
      }
      return runs.sort((a, b) => a - b)[2]!;
    };
    expect(canonicalJson(reversed)).toBe(canonicalJson(ordered));
    // An insertion sort of 20,000 reversed keys moves 200 million entries: seconds, against milliseconds.
    expect(time(reversed)).toBeLessThan(20 * time(ordered) + 20_000);
  });

  it('refuses a cyclic value with a TypeError, deep or shallow', () => {
    const shallow: Record<string, unknown> = { a: 1 };
    shallow.self = shallow;
    expect(() => canonicalJson(shallow)).toThrow(TypeError);
    const list: unknown[] = [];
    list.push({ list });
    expect(() => canonicalJson([list])).toThrow(TypeError);
  });

  it('throws on a BigInt, as JSON.stringify does', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
