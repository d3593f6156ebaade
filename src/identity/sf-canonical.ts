import type { BareItem, InnerList, Item, Parameters } from 'structured-headers';

/**
 * A fast path for the Signature-Input and Signature fields (RFC 9651 dictionaries) as signers write them: in the
 * canonical form, the one RFC 9651's serialisation produces. Such a text is its own serialisation, so the
 * `@signature-params` value and the component identifiers of the signature base are slices of it, and nothing is
 * re-serialised.
 *
 * It accepts only a strict subset: members that are an inner list of strings or a byte sequence (canonical base64,
 * no parameters); parameters that are strings, non-negative integers without leading zeros, or bare flags;
 * items one space apart; no key twice; no whitespace but around the commas between members and before the first,
 * where RFC 9651 allows it and a member's serialisation does not include it. Anything else, valid or not, makes
 * it decline (undefined), and the caller parses the field with the structured-headers library: the fast path
 * never rejects a field, and never accepts one the library would read differently. test/identity/
 * sf-canonical.test.ts checks both against the library, on generated canonical fields and on arbitrary text.
 */

/** One dictionary member as the library parses it, with its canonical serialisation (the text it was read from). */
export interface CanonicalMember {
  readonly value: Item | InnerList;
  /** The member's serialisation: `("@method" "@path");created=1` or `:AAAA:`. */
  readonly text: string;
  /** Each inner-list item's serialisation, in order (`"content-digest";sf`); empty for a byte sequence. */
  readonly itemTexts: readonly string[];
}

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;
const COLON = 0x3a;
const COMMA = 0x2c;
const DECLINE = -1;

// The readers below return where they stopped (DECLINE to give the field to the library) and leave what they read
// here: the parse is synchronous, and returning a fresh object per value would allocate on every request.
let read: BareItem = true;
let readParams: Parameters = new Map();
let readList: InnerList = [[], new Map()];

/** RFC 9651 key: lcalpha or "*" first, then lcalpha, DIGIT, "_", "-", ".", "*". Returns its end (`at` when none). */
function keyEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (!((first >= 0x61 && first <= 0x7a) || first === 0x2a)) return at;
  let i = at + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || c === 0x2e || c === 0x2a) i++;
    else return i;
  }
}

/** A canonical sf-string at `at` (a DQUOTE): printable ASCII, only `"` and `\` escaped. */
function readString(text: string, at: number): number {
  let i = at + 1;
  let plain = true;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === DQUOTE) break;
    if (c === BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (next !== DQUOTE && next !== BACKSLASH) return DECLINE;
      plain = false;
      i += 2;
    } else if (c >= 0x20 && c <= 0x7e) {
      i++;
    } else {
      // A control character, non-ASCII, or the end of the text (c is NaN there): not canonical, or not a string.
      return DECLINE;
    }
  }
  const raw = text.slice(at + 1, i);
  read = plain ? raw : raw.replace(/\\(["\\])/g, '$1');
  return i + 1;
}

/** A canonical sf-integer at `at` (a digit): 1 to 15 digits, no leading zero but in "0", not a decimal. */
function readInteger(text: string, at: number): number {
  let i = at;
  let c = text.charCodeAt(i);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  const digits = i - at;
  if (digits > 15 || (digits > 1 && text.charCodeAt(at) === 0x30) || c === 0x2e) return DECLINE;
  read = Number(text.slice(at, i));
  return i;
}

/** Canonical parameters at `at`: `;key`, `;key="string"` or `;key=integer`, no spaces, no key twice. */
function readParameters(text: string, at: number): number {
  const params: Parameters = new Map();
  let i = at;
  while (text.charCodeAt(i) === SEMICOLON) {
    const keyAt = i + 1;
    i = keyEnd(text, keyAt);
    if (i === keyAt) return DECLINE;
    const key = text.slice(keyAt, i);
    if (params.has(key)) return DECLINE;
    if (text.charCodeAt(i) !== EQUALS) {
      params.set(key, true);
      continue;
    }
    const c = text.charCodeAt(i + 1);
    if (c === DQUOTE) i = readString(text, i + 1);
    else if (c >= 0x30 && c <= 0x39) i = readInteger(text, i + 1);
    else return DECLINE;
    if (i === DECLINE) return DECLINE;
    params.set(key, read);
  }
  readParams = params;
  return i;
}

/** A key's member: an inner list of strings at `at` (a "("), items one space apart, with its parameters. */
function readInnerList(text: string, at: number, itemTexts: string[]): number {
  const items: Item[] = [];
  let i = at + 1;
  if (text.charCodeAt(i) !== CLOSE_PAREN) {
    for (;;) {
      if (text.charCodeAt(i) !== DQUOTE) return DECLINE;
      const itemAt = i;
      i = readString(text, i);
      if (i === DECLINE) return DECLINE;
      const value = read;
      i = readParameters(text, i);
      if (i === DECLINE) return DECLINE;
      items.push([value, readParams]);
      itemTexts.push(text.slice(itemAt, i));
      const c = text.charCodeAt(i);
      if (c === CLOSE_PAREN) break;
      if (c !== SP) return DECLINE;
      i++;
    }
  }
  i = readParameters(text, i + 1);
  if (i === DECLINE) return DECLINE;
  readList = [items, readParams];
  return i;
}

/**
 * A byte sequence at `at` (a ":") in canonical base64 (padded, no bits left over), with no parameters; its bytes
 * are left in `read`. Canonical when encoding the decoded bytes gives the text back, so every base64 decoder
 * (the library's atob among them) reads the same bytes from it.
 */
function readBytes(text: string, at: number): number {
  const close = text.indexOf(':', at + 1);
  if (close < 0 || text.charCodeAt(close + 1) === SEMICOLON) return DECLINE;
  const b64 = text.slice(at + 1, close);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.toString('base64') !== b64) return DECLINE;
  read = bytes;
  return close + 1;
}

/**
 * The dictionary in `text` when it is in the canonical subset described above, each member as structured-headers'
 * parseDictionary returns it plus its serialisation; undefined otherwise (parse it with the library then).
 */
export function parseCanonicalDictionary(text: string): Map<string, CanonicalMember> | undefined {
  const n = text.length;
  let i = 0;
  while (text.charCodeAt(i) === SP) i++;
  if (i === n) return undefined;
  const dictionary = new Map<string, CanonicalMember>();
  for (;;) {
    const keyAt = i;
    i = keyEnd(text, keyAt);
    if (i === keyAt || text.charCodeAt(i) !== EQUALS) return undefined;
    const key = text.slice(keyAt, i);
    if (dictionary.has(key)) return undefined;
    const valueAt = i + 1;
    const c = text.charCodeAt(valueAt);
    const itemTexts: string[] = [];
    if (c === OPEN_PAREN) {
      i = readInnerList(text, valueAt, itemTexts);
      if (i === DECLINE) return undefined;
      dictionary.set(key, { value: readList, text: text.slice(valueAt, i), itemTexts });
    } else if (c === COLON) {
      i = readBytes(text, valueAt);
      if (i === DECLINE) return undefined;
      dictionary.set(key, { value: [read, new Map()], text: text.slice(valueAt, i), itemTexts });
    } else return undefined;
    while (text.charCodeAt(i) === SP || text.charCodeAt(i) === HTAB) i++;
    if (i === n) return dictionary;
    if (text.charCodeAt(i) !== COMMA) return undefined;
    i++;
    while (text.charCodeAt(i) === SP || text.charCodeAt(i) === HTAB) i++;
    if (i === n) return undefined;
  }
}
