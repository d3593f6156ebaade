import fc from 'fast-check';

/** Member names that name something on Object.prototype: kept as plain data at every depth, or a bug. */
export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

const key = fc.oneof(fc.constantFrom(...PROTO_KEYS, 'toString', 'hasOwnProperty', '', 'a/b', 'm~n', '0', 'length'), fc.string({ unit: 'grapheme', maxLength: 6 }));

/** Own data members in order, `__proto__` included, as JSON.parse builds them (Object.fromEntries defines, never sets). */
const objectOf = (entries: readonly (readonly [string, unknown])[]) => Object.fromEntries(entries);

/**
 * Any value JSON text can carry faithfully (what extraction lets through): finite numbers (no -0), well-formed
 * strings, and objects whose member names are often `__proto__`, `constructor` or `prototype`.
 */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf),
})).value;

/** A JSON object (tool arguments), members as above. */
export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc.array(fc.tuple(key, jsonValue), { maxLength: 5 }).map(objectOf);

/** `depth` nested containers, alternating object and array (`{"a":[{"a":[…leaf…]}]}`), built without recursion. */
export function nested(depth: number, leaf: unknown = 'leaf', memberName = 'a'): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : objectOf([[memberName, value]]);
  return value;
}

/** The JSON text of `depth` nested containers around `leaf`, built as a string (nothing recursive touches it). */
export function nestedText(depth: number, leaf = '"leaf"'): string {
  let open = '';
  let close = '';
  for (let i = depth - 1; i >= 0; i--) {
    open += i % 2 === 0 ? '[' : '{"a":';
    close = (i % 2 === 0 ? ']' : '}') + close;
  }
  return open + leaf + close;
}
