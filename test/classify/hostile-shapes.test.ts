import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mask } from '../../src/classify/mask.js';
import { redactAt } from '../../src/classify/redact.js';
import { updateAt } from '../../src/classify/pointer.js';
import { copyJson } from '../../src/classify/json-walk.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { jsonValue, nested, PROTO_KEYS } from '../helpers/json-shapes.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const EMAIL = 'jane.doe@example.com';
const own = (o: unknown, key: string) => Object.getOwnPropertyDescriptor(o, key)?.value;
/** The member names of every object in a value, in walk order, read without recursion. */
function allKeys(value: unknown): string[] {
  const out: string[] = [];
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (!Array.isArray(v)) out.push(...Object.keys(v));
    stack.push(...Object.values(v));
  }
  return out.sort();
}

describe.each(PROTO_KEYS)('a %s member, as JSON.parse keeps it', (key) => {
  const doc = JSON.parse(`{"${key}":{"token":"${AWS}","${key}":["${EMAIL}",{"${key}":"${AWS}"}]},"x":1}`);

  it('survives mask at every depth, with its secrets masked', () => {
    const { value, erased } = mask(doc, '/args', { classes: new Set(['secret']) });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(JSON.stringify(value)).toBe(JSON.stringify(doc).replaceAll(AWS, '[REDACTED:aws_access_key]'));
    expect(erased.map((e) => e.pointer)).toEqual([`/args/${key}/token`, `/args/${key}/${key}/1/${key}`]);
  });

  it('survives mask\'s plain copy and pointer erasure', () => {
    expect(JSON.stringify(mask(doc, '/input', { only: new Set() }).value)).toBe(JSON.stringify(doc));
    const { value } = mask(doc, '/args', { pointers: [`/args/${key}/${key}`], classes: new Set() });
    expect(own(own(value, key), key)).toBe('[REDACTED]');
    expect(own(own(value, key), 'token')).toBe(AWS);
  });

  it('survives redaction, which redacts inside it', () => {
    const { doc: out, removed } = redactAt(doc, [`/${key}/${key}`], '/args');
    expect(removed.map((r) => r.pointer).sort()).toEqual([`/args/${key}/${key}/0`, `/args/${key}/${key}/1/${key}`]);
    expect(JSON.stringify(out)).toBe(JSON.stringify(doc).replace(`["${EMAIL}",{"${key}":"${AWS}"}]`, `["[REDACTED:email]",{"${key}":"[REDACTED:aws_access_key]"}]`));
    expect(JSON.stringify(doc)).toContain(EMAIL); // the input is not touched
  });

  it('is reached by a pointer only when the document holds it', () => {
    const copy = JSON.parse(JSON.stringify(doc));
    expect(updateAt(copy, `/${key}/token`, () => 'x')).toBe(true);
    expect(own(own(copy, key), 'token')).toBe('x');
    expect(updateAt({ a: 1 }, `/${key}/x`, () => 'x')).toBe(false);
  });

  it('is hashed and rendered by canonical JSON', () => {
    expect(JSON.parse(canonicalJson(doc))).toEqual(doc);
    expect(canonicalJson(doc)).toContain(`"${key}":`);
  });
});

describe('pointers never leave the document', () => {
  it.each([
    ['/__proto__/polluted'],
    ['/constructor/prototype/polluted'],
    ['/a/__proto__/toString'],
    ['/a/constructor/name'],
    ['/list/length'],
    ['/list/01'],
    ['/list/-'],
    ['/list/1e0'],
  ])('%s on an ordinary document changes nothing, anywhere', (pointer) => {
    const doc = { a: { b: 1 }, list: ['x', 'y'] };
    const before = JSON.stringify(doc);
    expect(updateAt(doc, pointer, () => 'changed')).toBe(false);
    expect(JSON.stringify(doc)).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(typeof Object.prototype.toString).toBe('function');
    expect((() => undefined).constructor.name).toBe('Function');
  });

  it('redactAt with a hostile pointer leaves Object.prototype alone', () => {
    redactAt({ a: 'x' }, ['/__proto__/toString', '/constructor/prototype/valueOf'], '/args');
    expect(typeof Object.prototype.toString).toBe('function');
    expect(typeof Object.prototype.valueOf).toBe('function');
  });
});

describe('deep values', () => {
  // V8's JSON.stringify has an iterative fast path, but falls back to a recursive one on some shapes (a masked,
  // concatenated string is enough) and then throws RangeError: these checks compare canonical JSON instead.
  const DEPTH = 100_000;
  const deep = nested(DEPTH, `key ${AWS}`, '__proto__');
  const deepMasked = nested(DEPTH, 'key [REDACTED:aws_access_key]', '__proto__');

  it('mask walks every level without RangeError and masks the deepest string', () => {
    const { value, erased } = mask(deep, '/args', { classes: new Set(['secret']) });
    expect(erased).toHaveLength(1);
    expect(erased[0]!.pointer.split('/').length).toBe(DEPTH + 2);
    expect(canonicalJson(value)).toBe(canonicalJson(deepMasked));
  });

  it('mask\'s plain copy and canonical JSON walk every level', () => {
    const text = canonicalJson(deep);
    expect(text.length).toBe(DEPTH / 2 * ('[]'.length + '{"__proto__":}'.length) + `"key ${AWS}"`.length);
    expect(canonicalJson(mask(deep, '/input', { only: new Set() }).value)).toBe(text);
    expect(canonicalJson(copyJson(deep))).toBe(text);
  });

  it('redaction at a deep pointer reaches it', () => {
    // Outermost first: the root is an object (DEPTH is even), then an array, and so on down to the leaf.
    const pointer = `/${Array.from({ length: DEPTH }, (_, i) => (i % 2 === 0 ? '__proto__' : '0')).join('/')}`;
    const { removed, doc } = redactAt(deep, [pointer], '/args');
    expect(removed).toHaveLength(1);
    expect(canonicalJson(doc)).toBe(canonicalJson(deepMasked));
  });

  it('a cyclic value is a TypeError (as in JSON.stringify), not a hang', () => {
    const cyclic: Record<string, unknown> = { a: [1] };
    (cyclic.a as unknown[]).push(cyclic);
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
    expect(() => copyJson(cyclic)).toThrow(TypeError);
    expect(() => mask(cyclic, '/x')).toThrow(TypeError);
  });

  it('property: no nesting depth makes a walker throw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30_000 }), fc.constantFrom('a', ...PROTO_KEYS), (depth, key) => {
        const value = nested(depth, EMAIL, key);
        expect(canonicalJson(value).length).toBe(canonicalJson(copyJson(value)).length);
        expect(mask(value, '/args', { classes: new Set(['pii']) }).erased).toHaveLength(1);
        expect(redactAt(value, ['/0'], '').removed.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 30 },
    );
  });
});

describe('properties over arbitrary JSON (with __proto__, constructor and prototype members)', () => {
  it('mask without findings is an exact copy: same members, same canonical JSON', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        for (const out of [mask(value, '/args').value, mask(value, '/input', { only: new Set() }).value, copyJson(value)]) {
          expect(canonicalJson(out)).toBe(canonicalJson(value));
          expect(allKeys(out)).toEqual(allKeys(value));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('mask and redact keep every member, change only strings, and leave no secret', () => {
    // JSON.parse's reviver defines members (never sets them), so __proto__ members stay data.
    const rebuild = (v: unknown, leaf: (s: string) => string): unknown => JSON.parse(JSON.stringify(v) ?? 'null', (_k, x: unknown) => (typeof x === 'string' ? leaf(x) : x));
    const withSecrets = jsonValue.map((v) => rebuild(v, (x) => `${x} ${AWS} ${EMAIL}`));
    const shape = (v: unknown) => canonicalJson(rebuild(v, () => ''));
    fc.assert(
      fc.property(withSecrets, (value) => {
        const masked = mask(value, '/args', { classes: new Set(['secret', 'pii']) }).value;
        const top = value !== null && typeof value === 'object' ? Object.keys(value).map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`) : [];
        const redacted = redactAt(value, top, '/args').doc;
        for (const out of [masked, ...(top.length ? [redacted] : [])]) {
          expect(allKeys(out)).toEqual(allKeys(value));
          expect(shape(out)).toBe(shape(value));
          expect(canonicalJson(out)).not.toContain(AWS);
          expect(canonicalJson(out)).not.toContain(EMAIL);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('canonical JSON of a parsed value parses back to it', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as unknown;
        const canonical = canonicalJson(parsed);
        expect(canonicalJson(JSON.parse(canonical))).toBe(canonical);
        expect(allKeys(JSON.parse(canonical))).toEqual(allKeys(parsed));
      }),
      { numRuns: 400 },
    );
  });
});
