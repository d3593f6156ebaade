import { createHash } from 'node:crypto';

/**
 * A bundle file's digest as OPA computes it for `.signatures.json` (bundle/hash.go): a JSON file (`.json`, and
 * `.manifest`) is hashed over a canonical form — object keys sorted, no whitespace, numbers as written, strings
 * encoded as Go's encoding/json encodes them without HTML escaping — and any other file over its bytes. So
 * re-indenting data.json does not break a signature, and our digests match `opa build --signing-key`'s exactly.
 */
export function opaFileDigest(name: string, bytes: Buffer, algorithm = 'SHA-256'): string {
  const node = HASHES[algorithm];
  if (!node) throw new Error(`unsupported hashing algorithm ${algorithm}`);
  const hash = createHash(node);
  if (isJsonFile(name)) {
    hash.update(canonical(parseKeepingNumbers(bytes.toString('utf8'))));
  } else {
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** OPA's hashing algorithm names (bundle/hash.go) and Node's for them. */
const HASHES: Readonly<Record<string, string>> = {
  'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-224': 'sha224', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', 'SHA-512-224': 'sha512-224', 'SHA-512-256': 'sha512-256',
};

function isJsonFile(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base === '.manifest' || base.endsWith('.json');
}

/** A JSON number kept as its source text (OPA decodes with UseNumber, so `1.0` stays `1.0`). */
class JsonNumber {
  constructor(readonly text: string) {}
}

type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

function parseKeepingNumbers(text: string): Json {
  // The reviver's third argument carries each primitive's source text (Node 21+), so no number is reformatted.
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? new JsonNumber(context.source) : value) as Json;
}

function canonical(value: Json): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return goString(value);
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  // Go sorts map keys by their UTF-8 bytes; JS compares UTF-16 units, which agrees except across surrogates.
  const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goString(k)}:${canonical(value[k]!)}`).join(',')}}`;
}

const SHORT: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** A string as Go's json.Encoder with SetEscapeHTML(false) writes it. */
function goString(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
  return `"${s.replace(/[\u0000-\u001f"\\\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    if (SHORT[c]) return SHORT[c];
    if (c >= '\ud800' && c <= '\udfff') return '\ufffd'; // Go decodes a lone surrogate escape to U+FFFD, which it writes as is
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  })}"`;
}
