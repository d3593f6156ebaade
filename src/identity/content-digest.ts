import { createHash, timingSafeEqual } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';

/** RFC 9530 algorithms we compute; others in a Content-Digest field are ignored (§2 lets a recipient do so). */
const DIGESTS = { 'sha-256': 'sha256', 'sha-512': 'sha512' } as const;
export type DigestAlgorithm = keyof typeof DIGESTS;

/** `sha-256=:` + 44 base64 characters + `:`. */
const SHA256_FIELD_LENGTH = 54;

/** `sha-256=:…:` for a body, as a signer sends it. */
export function contentDigest(body: Uint8Array, algorithm: DigestAlgorithm = 'sha-256'): string {
  const digest = createHash(DIGESTS[algorithm]).update(body).digest();
  return serializeDictionary(new Map([[algorithm, [bufferToArrayBuffer(digest), new Map()]]]));
}

function bufferToArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/**
 * SHA-256 of a body, computed once for the body seen last: the signature check and the audit record's body hash read
 * the same bytes (a 1 MiB body costs milliseconds per pass). Bodies are never written after they are read. One
 * entry, held strongly (at most one body past its request, within the body limit): a WeakMap by body, tried first,
 * took the bench process from 65 to 160 MiB RSS over 400,000 bodies, its entries outliving their bodies until a full
 * GC.
 */
let last: { readonly body: Uint8Array; readonly digest: Buffer } | undefined;

export function bodySha256(body: Uint8Array): Buffer {
  if (last?.body === body) return last.digest;
  const digest = createHash('sha256').update(body).digest();
  last = { body, digest };
  return digest;
}

export type DigestCheck = { ok: true } | { ok: false; reason: 'digest_missing' | 'digest_mismatch'; message: string };

/**
 * Checks a Content-Digest field against the body. Every supported algorithm present must match, and at least
 * one must be present: an unknown algorithm alone proves nothing about the body.
 */
export function checkContentDigest(field: string | undefined, body: Uint8Array): DigestCheck {
  if (field === undefined) return { ok: false, reason: 'digest_missing', message: 'request has a body but no Content-Digest field (RFC 9530): send sha-256=:<base64 of SHA-256(body)>:' };
  // The field every signer we know sends, byte for byte what contentDigest() writes: it parses to exactly one
  // sha-256 member equal to the body's digest, so it passes without the structured-field parser (about 10 µs).
  // Anything else, however close, takes the full check below.
  if (field.length === SHA256_FIELD_LENGTH && field === `sha-256=:${bodySha256(body).toString('base64')}:`) return { ok: true };
  let dict;
  try {
    dict = parseDictionary(field);
  } catch {
    return { ok: false, reason: 'digest_mismatch', message: 'Content-Digest is not a structured dictionary (RFC 9530)' };
  }
  let checked = 0;
  for (const [name, algorithm] of Object.entries(DIGESTS)) {
    const member = dict.get(name);
    if (member === undefined) continue;
    const value = member[0];
    if (!(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) return { ok: false, reason: 'digest_mismatch', message: `Content-Digest ${name} is not a byte sequence` };
    const claimed = value instanceof ArrayBuffer ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const actual = algorithm === 'sha256' ? bodySha256(body) : createHash(algorithm).update(body).digest();
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) return { ok: false, reason: 'digest_mismatch', message: `Content-Digest ${name} does not match the body received` };
    checked += 1;
  }
  if (checked === 0) return { ok: false, reason: 'digest_missing', message: `Content-Digest carries no supported algorithm: send ${Object.keys(DIGESTS).join(' or ')}` };
  return { ok: true };
}
