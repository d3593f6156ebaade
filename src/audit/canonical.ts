import { checkAcyclic } from '../classify/json-walk.js';

interface Frame {
  readonly src: object;
  /** Sorted own enumerable keys of an object; null for an array. */
  readonly keys: string[] | null;
  i: number;
  /** Whether no member of the object is written yet (undefined members are skipped, so `i` cannot tell). */
  first: boolean;
}

/**
 * Canonical JSON for hashing: object keys sorted by code unit, no whitespace, `undefined` members dropped,
 * as JSON.stringify renders primitives. Close to RFC 8785 for the values we produce (no floats in hashes
 * that could render differently across engines), and stable across gateway versions.
 *
 * Two walks with one output. Values nested at most RECURSION_LIMIT deep (every event the gateway writes) take a
 * plain recursive walk, which V8 runs faster than the explicit stack: 18.6 → 13.0 µs per decision event (Node 26,
 * the bench's sample event, best of 5 × 20,000, shared 2-core machine), paid by both events of every allowed call
 * and the args hash. Deeper values (and cyclic ones, which reach any depth) take the iterative walk: no nesting
 * depth can overflow the call stack, so an event always hashes (a recursive walk threw RangeError at about 9,000
 * levels, and the audit record of a refused call was lost). The output is pinned byte for byte, odd values
 * included, by test/audit/canonical.test.ts, for values on both sides of the limit.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  return shallow(value, 0) ?? deep(value);
}

/** Depth the recursive walk goes to before it gives the value to the iterative one. */
export const RECURSION_LIMIT = 64;

/** The recursive walk of an object or array; undefined when the value nests deeper than RECURSION_LIMIT. */
function shallow(value: object, depth: number): string | undefined {
  if (depth >= RECURSION_LIMIT) return undefined;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole renders as nothing, as Array.prototype.join does ([1,,3]); an undefined element as null.
      if (!(i in value)) continue;
      const member: unknown = value[i];
      if (member === null || typeof member !== 'object') out += JSON.stringify(member) ?? 'null';
      else {
        const inner = shallow(member, depth + 1);
        if (inner === undefined) return undefined;
        out += inner;
      }
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (first) first = false;
    else out += ',';
    out += JSON.stringify(key) + ':';
    if (member === null || typeof member !== 'object') out += JSON.stringify(member) ?? 'null';
    else {
      const inner = shallow(member, depth + 1);
      if (inner === undefined) return undefined;
      out += inner;
    }
  }
  return `${out}}`;
}

/** Up to this many keys are sorted in place by insertion; more by Array.prototype.sort (insertion is quadratic). */
export const INSERTION_SORT_MAX = 32;

/**
 * An object's own enumerable keys in UTF-16 code-unit order, the order RFC 8785 asks for (`<` on strings and the
 * default sort both compare code units). The few keys of an event's objects are sorted in place by insertion:
 * Array.prototype.sort allocates a work array on every call, and canonical JSON was the largest allocator of an
 * allowed call (38 of 130 KiB, sort 17.6 of them, sampled in the bench server). An object with more keys (the
 * arguments can carry thousands) takes the library sort, so the cost stays O(n log n). The worst order for the
 * insertion (every object's keys reversed) moves n(n-1)/2 entries: at 32 keys about 1.5x the library sort's time,
 * which the body's element limit (10,000 values: some 300 such objects) bounds to a few milliseconds.
 */
function sortedKeys(record: object): string[] {
  const keys = Object.keys(record);
  const n = keys.length;
  if (n > INSERTION_SORT_MAX) {
    for (let i = 1; i < n; i++) {
      if (keys[i - 1]! > keys[i]!) return keys.sort();
    }
    return keys;
  }
  for (let i = 1; i < n; i++) {
    const key = keys[i]!;
    let j = i - 1;
    if (keys[j]! < key) continue;
    do {
      keys[j + 1] = keys[j]!;
      j--;
    } while (j >= 0 && keys[j]! > key);
    keys[j + 1] = key;
  }
  return keys;
}

/**
 * The iterative walk, with an explicit stack. Loops appending to one string rather than entries/filter/sort/map/join
 * (22 µs → 11.5 µs per decision event when it was the only walk).
 */
function deep(value: object): string {
  const stack: Frame[] = [];
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    stack.push({ src: value, keys: null, i: 0, first: true });
  } else {
    out = '{';
    stack.push({ src: value, keys: sortedKeys(value), i: 0, first: true });
  }
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const keys = frame.keys;
    let member: unknown;
    if (keys === null) {
      const array = frame.src as unknown[];
      const i = frame.i;
      if (i >= array.length) {
        out += ']';
        stack.pop();
        continue;
      }
      frame.i = i + 1;
      if (i > 0) out += ',';
      // A hole renders as nothing, as Array.prototype.join does ([1,,3]); an undefined element as null.
      if (!(i in array)) continue;
      member = array[i];
      if (member === undefined) {
        out += 'null';
        continue;
      }
    } else {
      const record = frame.src as Record<string, unknown>;
      let i = frame.i;
      while (i < keys.length && record[keys[i]!] === undefined) i++;
      if (i >= keys.length) {
        out += '}';
        stack.pop();
        continue;
      }
      const key = keys[i]!;
      frame.i = i + 1;
      member = record[key];
      if (frame.first) frame.first = false;
      else out += ',';
      out += JSON.stringify(key) + ':';
    }
    if (member === null || typeof member !== 'object') {
      out += JSON.stringify(member) ?? 'null';
      continue;
    }
    if (Array.isArray(member)) {
      out += '[';
      stack.push({ src: member, keys: null, i: 0, first: true });
    } else {
      out += '{';
      stack.push({ src: member, keys: sortedKeys(member), i: 0, first: true });
    }
    checkAcyclic(stack);
  }
  return out;
}

/**
 * The canonical JSON members of `record` (`"k":value`, comma-separated, key order) except `key`, split at the place
 * `key` takes in that order: the canonical JSON of the record with `key` set to `v` is
 * `{before,"key":v,after}` (commas only between non-empty parts). The chain hashes an event with its chain link in
 * place and writes its line with the signed link: the body is serialised once for both (chain.ts).
 */
export function canonicalAround(record: Readonly<Record<string, unknown>>, key: string): { before: string; after: string } {
  let before = '';
  let after = '';
  for (const k of sortedKeys(record)) {
    const value = record[k];
    if (k === key || value === undefined) continue;
    const member = `${JSON.stringify(k)}:${canonicalJson(value)}`;
    if (k < key) before += before ? `,${member}` : member;
    else after += after ? `,${member}` : member;
  }
  return { before, after };
}
