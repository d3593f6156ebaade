import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect, DETECTORS, mask, redactAt, scan } from '../../src/classify/index.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { jsonValue, nested, PROTO_KEYS } from '../helpers/json-shapes.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const OPENAI = 'sk-proj-abcdefghijklmnopqrstuvwx';
const EMAIL = 'jane.doe@example.com';
const SECRET = new Set(['secret']);
const own = (o: unknown, key: string) => Object.getOwnPropertyDescriptor(o, key)?.value;

/**
 * Issue 8, points 4 and 6: a credential or PII used as a member name is a finding like one in a value. scan()
 * reports it at the object holding the member (`in: "name"`), and mask() masks the name, so neither the policy
 * nor the audit can miss it.
 */
describe('scan finds what sits in member names', () => {
  it.each<[string, unknown, { type: string; pointer: string; in?: 'name' }[], { type: string; pointer: string; in?: 'name' }[]]>([
    ['a top-level name', { [AWS]: 1 }, [{ type: 'aws_access_key', pointer: '/args', in: 'name' }], []],
    ['a nested name', { notes: { [OPENAI]: 'x' } }, [{ type: 'openai_key', pointer: '/args/notes', in: 'name' }], []],
    ['a name in an array of objects', { list: [{ a: 1 }, { [`mail ${EMAIL}`]: true }] }, [], [{ type: 'email', pointer: '/args/list/1', in: 'name' }]],
    ['a name and a value under it', { [EMAIL]: `key ${AWS}` }, [{ type: 'aws_access_key', pointer: `/args/${EMAIL}` }], [{ type: 'email', pointer: '/args', in: 'name' }]],
    ['a name whose pointer needs escaping', { 'a/b~c': { [AWS]: null } }, [{ type: 'aws_access_key', pointer: '/args/a~1b~0c', in: 'name' }], []],
    ['two names of one type in one object, reported once', { [AWS]: 1, [`${AWS.slice(0, -1)}Y`]: 2 }, [{ type: 'aws_access_key', pointer: '/args', in: 'name' }], []],
    ['the same type in a name and in a value of one object', { [AWS]: AWS }, [{ type: 'aws_access_key', pointer: '/args', in: 'name' }, { type: 'aws_access_key', pointer: `/args/${AWS}` }], []],
  ])('%s', (_name, args, secrets, pii) => {
    expect(scan(args, '/args')).toEqual({ secrets, pii });
  });

  it.each(PROTO_KEYS)('at every depth, under %s members', (key) => {
    const deep = nested(1001, { [AWS]: 1 }, key);
    const { secrets } = scan(deep, '/args');
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.in).toBe('name');
    expect(secrets[0]!.pointer.split('/')).toHaveLength(1002 + 1);
  });

  it('reports names in document order, an object before its members', () => {
    const { pii } = scan({ a: { [EMAIL]: { b: EMAIL } }, c: EMAIL }, '/args');
    expect(pii.map((f) => f.pointer)).toEqual(['/args/a', `/args/a/${EMAIL}/b`, '/args/c']);
  });
});

describe('mask masks member names', () => {
  it('replaces a credential name with its placeholder, keeps the value, every other member and their order', () => {
    const args = JSON.parse(`{"to":"x","notes":{"a":1,"${AWS}":{"v":"kept"},"__proto__":2,"z":3}}`) as unknown;
    const { value, erased, pointerOf } = mask(args, '/args', { classes: SECRET });
    expect(JSON.stringify(value)).toBe('{"to":"x","notes":{"a":1,"[REDACTED:aws_access_key]":{"v":"kept"},"__proto__":2,"z":3}}');
    expect(Object.getPrototypeOf(own(value, 'notes'))).toBe(Object.prototype);
    expect(erased).toEqual([{ pointer: '/args/notes/[REDACTED:aws_access_key]', types: ['aws_access_key'], in: 'name' }]);
    expect(pointerOf(`/args/notes/${AWS}/v`)).toBe('/args/notes/[REDACTED:aws_access_key]/v');
    expect(pointerOf('/args/to')).toBe('/args/to');
    const scrub = mask(args, '/args', { classes: SECRET }).scrub;
    expect(scrub(`at /args/notes/${AWS} and /args/notes/x~1${AWS}`)).toBe('at /args/notes/[REDACTED:aws_access_key] and /args/notes/x~1[REDACTED:aws_access_key]');
    expect(mask({ a: AWS }, '/args', { classes: SECRET }).scrub(AWS)).toBe(AWS); // only what was masked in a name
  });

  it('masks only the matches in a name, like in a value, and leaves PII names alone for class secret', () => {
    const { value } = mask({ [`key ${AWS} here`]: 1, [EMAIL]: 2 }, '/args', { classes: SECRET });
    expect(Object.keys(value as object)).toEqual(['key [REDACTED:aws_access_key] here', EMAIL]);
  });

  it('makes colliding names unique, in document order, without losing a member', () => {
    const args = { '[REDACTED:aws_access_key]': 'present', [AWS]: 1, 'AKIAIOSFODNN7EXAMPLF': 2, '[REDACTED:aws_access_key]#2': 'also', ASIAIOSFODNN7EXAMPLE: 3 };
    const { value, erased } = mask(args, '/args', { classes: SECRET });
    expect(value).toEqual({
      '[REDACTED:aws_access_key]': 'present',
      '[REDACTED:aws_access_key]#3': 1,
      '[REDACTED:aws_access_key]#4': 2,
      '[REDACTED:aws_access_key]#2': 'also',
      '[REDACTED:aws_access_key]#5': 3,
    });
    expect(Object.keys(value as object)).toHaveLength(5);
    expect(erased.map((e) => e.pointer)).toEqual(['/args/[REDACTED:aws_access_key]#3', '/args/[REDACTED:aws_access_key]#4', '/args/[REDACTED:aws_access_key]#5']);
  });

  it('with `only`, masks the names of an object a finding points at, and nothing elsewhere', () => {
    const args = { a: { [AWS]: 1 }, b: { [AWS]: 2 } };
    const { value, erased } = mask(args, '/input/args', { classes: SECRET, only: new Set(['/input/args/a']) });
    expect(value).toEqual({ a: { '[REDACTED:aws_access_key]': 1 }, b: { [AWS]: 2 } });
    expect(erased.map((e) => e.pointer)).toEqual(['/input/args/a/[REDACTED:aws_access_key]']);
  });

  it('scan then mask at the findings masks every credential name at any depth (the audit path)', () => {
    const args = JSON.parse(`{"__proto__":[{"${AWS}":{"constructor":{"${OPENAI}":"x"}}}],"prototype":{"x":"${AWS}"}}`) as unknown;
    const { secrets } = scan(args, '/args');
    const { value, erased } = mask(args, '/args', { classes: SECRET, only: new Set(secrets.map((f) => f.pointer)) });
    expect(canonicalJson(value)).not.toContain(AWS);
    expect(canonicalJson(value)).not.toContain(OPENAI);
    expect(erased.map((e) => e.pointer)).toEqual([
      '/args/__proto__/0/[REDACTED:aws_access_key]',
      '/args/__proto__/0/[REDACTED:aws_access_key]/constructor/[REDACTED:openai_key]',
      '/args/prototype/x',
    ]);
  });
});

describe('redaction at an object reaches its member names', () => {
  it('redacting the object a name finding points at masks the name and keeps the rest', () => {
    const args = { scope: 'room', notes: { [EMAIL]: 'met at standup', plain: 'ok' } };
    const { pii } = scan(args, '/args');
    expect(pii).toEqual([{ type: 'email', pointer: '/args/notes', in: 'name' }]);
    const { doc, removed } = redactAt({ args }, pii.map((f) => f.pointer));
    expect(doc).toEqual({ args: { scope: 'room', notes: { '[REDACTED:email]': 'met at standup', plain: 'ok' } } });
    expect(removed).toEqual([{ pointer: '/args/notes/[REDACTED:email]', types: ['email'], in: 'name' }]);
    expect(JSON.stringify(args)).toContain(EMAIL); // the caller's arguments are not touched
  });

  it('redacting /args itself masks top-level names', () => {
    const { doc } = redactAt({ args: { [EMAIL]: 1, [`${AWS}`]: 2 } }, ['/args']);
    expect(doc).toEqual({ args: { '[REDACTED:email]': 1, '[REDACTED:aws_access_key]': 2 } });
  });
});

describe('property: nothing a detector finds survives masking, in names or in values', () => {
  const credentials = fc.constantFrom(AWS, OPENAI, 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'xoxb-1234567890-abcdef', 'sk_live_abcdefghijklmnop12');
  const pad = fc.string({ unit: 'grapheme-ascii', maxLength: 4 });
  const named = fc.tuple(pad, credentials, pad).map(([a, c, b]) => `${a} ${c} ${b}`);
  /** Arbitrary JSON with a credential planted as a member name somewhere (and maybe in a value). */
  const planted = fc.tuple(jsonValue, named, jsonValue, fc.array(fc.nat(), { maxLength: 6 })).map(([host, name, inner, path]) => {
    const root = JSON.parse(JSON.stringify({ host }) ?? 'null') as Record<string, unknown>;
    let node: unknown = root;
    for (const step of path) {
      const next: unknown = Array.isArray(node) ? node[step % Math.max(node.length, 1)] : node !== null && typeof node === 'object' ? Object.values(node)[step % Math.max(Object.keys(node).length, 1)] : undefined;
      if (next === null || typeof next !== 'object') break;
      node = next;
    }
    const holder = Array.isArray(node) ? ((node[node.length] = {}) as Record<string, unknown>) : (node as Record<string, unknown>);
    Object.defineProperty(holder, name, { value: inner, enumerable: true, writable: true, configurable: true });
    return { root, name };
  });
  const secretsIn = (text: string) => detect(text, DETECTORS).filter((m) => m.class === 'secret').map((m) => text.slice(m.start, m.end));

  it('full masking and masking at scan()\'s findings both leave no secret a detector finds', () => {
    fc.assert(
      fc.property(planted, ({ root }) => {
        const before = canonicalJson(root);
        const found = secretsIn(before);
        expect(found.length).toBeGreaterThan(0);
        const { secrets } = scan(root, '');
        expect(secrets.length).toBeGreaterThan(0);
        const full = canonicalJson(mask(root, '', { classes: SECRET }).value);
        const atFindings = canonicalJson(mask(root, '', { classes: SECRET, only: new Set(secrets.map((f) => f.pointer)) }).value);
        for (const out of [full, atFindings]) {
          for (const s of found) expect(out).not.toContain(s);
          expect(secretsIn(out)).toEqual([]);
        }
        expect(canonicalJson(root)).toBe(before); // never mutated
      }),
      { numRuns: 300 },
    );
  });
});
