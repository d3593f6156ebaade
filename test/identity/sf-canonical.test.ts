import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseDictionary, serializeDictionary, serializeInnerList, serializeItem, type InnerList, type Item } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { generateAgentKey, signRequest } from '../../src/agent/index.js';
import { parseCanonicalDictionary, type CanonicalMember } from '../../src/identity/sf-canonical.js';

/** A parsed value in a comparable shape: Maps as entry lists, bytes as hex, tokens and other objects by kind. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return [...value].map(([k, v]) => [k, plain(v)]);
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof ArrayBuffer) return { bytes: Buffer.from(value).toString('hex') };
  if (ArrayBuffer.isView(value)) return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') };
  if (value !== null && typeof value === 'object') return { [value.constructor.name]: String(value) };
  return value;
}

const isInner = (v: Item | InnerList): v is InnerList => Array.isArray(v[0]);

/**
 * The contract: when the fast path reads a field, the library reads the same members with the same values, and
 * each serialisation the fast path hands out is what the library's serialiser writes for that member and item.
 */
function agreesWithLibrary(text: string): boolean {
  const fast = parseCanonicalDictionary(text);
  if (fast === undefined) return false;
  const library = parseDictionary(text);
  expect([...fast.keys()]).toEqual([...library.keys()]);
  for (const [key, member] of fast as Map<string, CanonicalMember>) {
    const theirs = library.get(key)!;
    expect(plain(member.value)).toEqual(plain(theirs));
    if (isInner(theirs)) {
      expect(member.text).toBe(serializeInnerList(theirs));
      expect(member.itemTexts).toEqual(theirs[0].map((item) => serializeItem(item)));
    } else {
      expect(member.text).toBe(serializeItem(theirs));
      expect(member.itemTexts).toEqual([]);
    }
  }
  return true;
}

// --- Generators: fields in the fast path's subset, serialised by the library ---------------------------------

const key = fc.stringMatching(/^[a-z*][a-z0-9_.*-]{0,6}$/);
const sfString = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const paramValue = fc.oneof(sfString, fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.constant(true));
const params = fc.uniqueArray(fc.tuple(key, paramValue), { selector: ([k]) => k, maxLength: 4 }).map((entries) => new Map(entries));
const innerList = fc.tuple(fc.array(fc.tuple(sfString, params), { maxLength: 6 }), params);
const bytes = fc.uint8Array({ maxLength: 80 }).map((b) => [b, new Map()]);
const dictionary = fc.uniqueArray(fc.tuple(key, fc.oneof(innerList, bytes)), { selector: ([k]) => k, minLength: 1, maxLength: 4 }).map((entries) => new Map(entries as [string, Item | InnerList][]));
/** RFC 9651 lets a dictionary's members be joined by "," with any spaces and tabs around it, and start after spaces. */
const separator = fc.tuple(fc.stringMatching(/^[ \t]{0,2}$/), fc.stringMatching(/^[ \t]{0,2}$/)).map(([a, b]) => `${a},${b}`);
const canonicalField = fc.tuple(dictionary, fc.array(separator, { minLength: 4, maxLength: 4 }), fc.stringMatching(/^ {0,2}$/)).map(([dict, seps, lead]) => {
  const members = [...dict].map((member) => serializeDictionary(new Map([member])));
  return lead + members.map((m, i) => (i === 0 ? m : `${seps[i - 1]}${m}`)).join('');
});

/** Characters the RFC 9651 grammar gives meaning to, plus a few it refuses. */
const SF_CHARS = [...'abc*-_.0129 \t()";=:?,@%\\AZ+/é\u0000\u007f'];

/** One edit of a text: a character inserted, deleted or replaced, or a stretch repeated. */
const edited = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, fc.nat(), fc.nat(), fc.constantFrom(...SF_CHARS), fc.constantFrom('insert', 'delete', 'replace', 'repeat')).map(([t, a, b, c, op]) => {
    const i = t.length === 0 ? 0 : a % t.length;
    const j = Math.min(t.length, i + (b % 8));
    if (op === 'insert') return t.slice(0, i) + c + t.slice(i);
    if (op === 'delete') return t.slice(0, i) + t.slice(i + 1);
    if (op === 'replace') return t.slice(0, i) + c + t.slice(i + 1);
    return t.slice(0, j) + t.slice(i, j) + t.slice(j);
  });

describe('canonical structured-field fast path', () => {
  it('reads every field in its subset, exactly as the library does (fields written by the library serialiser)', () => {
    fc.assert(fc.property(canonicalField, (text) => {
      expect(agreesWithLibrary(text)).toBe(true);
    }), { numRuns: 2000 });
  });

  it('never reads a text the library reads differently or refuses: edits of canonical fields', () => {
    fc.assert(fc.property(edited(edited(canonicalField)), (text) => {
      agreesWithLibrary(text);
    }), { numRuns: 5000 });
  });

  it('never reads a text the library reads differently or refuses: arbitrary text in the grammar\'s characters', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...SF_CHARS), maxLength: 40 }), (text) => {
      agreesWithLibrary(text);
    }), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
      agreesWithLibrary(`sig1=("${text}");created=1`);
      agreesWithLibrary(`sig1=:${text}:`);
    }), { numRuns: 2000 });
  });

  it.each([
    ['a space inside the inner list', 'sig1=( "@method")'],
    ['two spaces between items', 'sig1=("@method"  "@path")'],
    ['a space after ";"', 'sig1=("@method"); created=1'],
    ['a leading zero', 'sig1=("@method");created=01'],
    ['a negative integer', 'sig1=("@method");created=-1'],
    ['a decimal', 'sig1=("@method");created=1.5'],
    ['a sixteen-digit integer', 'sig1=("@method");created=1234567890123456'],
    ['a boolean written out', 'sig1=("content-digest";sf=?1)'],
    ['a false boolean', 'sig1=("content-digest";sf=?0)'],
    ['a token item', 'sig1=(method)'],
    ['a token parameter', 'sig1=("@method");alg=ed25519'],
    ['a label twice', 'sig1=("@method"), sig1=("@path")'],
    ['a parameter twice', 'sig1=("@method");created=1;created=2'],
    ['an item parameter twice', 'sig1=("x";sf;sf)'],
    ['unpadded base64', 'sig1=:YQ:'],
    ['base64 with bits left over', 'sig1=:YR==:'],
    ['base64url', 'sig1=:-_-_:'],
    ['a parameter on a byte sequence', 'sig1=:AAAA:;x'],
    ['a non-ASCII string', 'sig1=("\u00e9")'],
    ['an escape other than \\" and \\\\', 'sig1=("\\n")'],
    ['a bare key', 'sig1'],
    ['a trailing comma', 'sig1=("@method"),'],
    ['an empty field', ''],
    ['spaces only', '   '],
    ['a tab before the first member', '\tsig1=("@method")'],
    ['an upper-case key', 'Sig1=("@method")'],
  ])('declines %s (the library decides)', (_, text) => {
    expect(parseCanonicalDictionary(text)).toBeUndefined();
  });

  it('reads what real signers send: the agent library, web-bot-auth and RFC 9421 Appendix B', () => {
    const { privateJwk } = generateAgentKey();
    const fields = [
      signRequest({ method: 'POST', url: 'http://127.0.0.1:1/tools/email.send', headers: { 'content-type': 'application/json' }, body: '{"to":["a@b.example"]}' }, { privateJwk }),
      signRequest({ method: 'GET', url: 'https://example.com/' }, { privateJwk, tag: 'web-bot-auth', signatureAgent: 'https://agent.example' }),
    ];
    const vectors = JSON.parse(readFileSync(new URL('../fixtures/identity/rfc9421-vectors.json', import.meta.url), 'utf8')) as { requestVectors: { signatureInput: string; signature: string }[] };
    const texts = [...fields.flatMap((f) => [f['signature-input'], f.signature]), ...vectors.requestVectors.flatMap((v) => [v.signatureInput, v.signature])];
    for (const text of texts) expect(agreesWithLibrary(text), text).toBe(true);
  });

  it('handles escapes and the whitespace RFC 9651 allows between members', () => {
    const text = ' sig1=("a\\"b" "c\\\\d";key="x");nonce="\\"n\\"" ,\tsig2=:AAEC:';
    expect(agreesWithLibrary(text)).toBe(true);
    const members = parseCanonicalDictionary(text)!;
    expect(members.get('sig1')!.text).toBe('("a\\"b" "c\\\\d";key="x");nonce="\\"n\\""');
    expect(plain(members.get('sig2')!.value)).toEqual([{ bytes: '000102' }, []]);
  });
});
