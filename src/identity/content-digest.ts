import { createHash, timingSafeEqual } from 'node:crypto';
import { parseDictionary, serializeDictionary } from 'structured-headers';

/** RFC 9530 algorithms we compute; others in a Content-Digest field are ignored (§2 lets a recipient do so). */
const DIGESTS = { 'sha-256': 'sha256', 'sha-512': 'sha512' } as const;
export type DigestAlgorithm = keyof typeof DIGESTS;

/** `sha-256=:…:` for a body, as a signer sends it. */
export function contentDigest(body: Uint8Array, algorithm: DigestAlgorithm = 'sha-256'): string {
  const digest = createHash(DIGESTS[algorithm]).update(body).digest();
  return serializeDictionary(new Map([[algorithm, [bufferToArrayBuffer(digest), new Map()]]]));
}

function bufferToArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

export type DigestCheck = { ok: true } | { ok: false; reason: 'digest_missing' | 'digest_mismatch'; message: string };

/**
 * Checks a Content-Digest field against the body. Every supported algorithm present must match, and at least
 * one must be present: an unknown algorithm alone proves nothing about the body.
 */
export function checkContentDigest(field: string | undefined, body: Uint8Array): DigestCheck {
  if (field === undefined) return { ok: false, reason: 'digest_missing', message: 'request has a body but no Content-Digest field (RFC 9530): send sha-256=:<base64 of SHA-256(body)>:' };
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
    const actual = createHash(algorithm).update(body).digest();
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) return { ok: false, reason: 'digest_mismatch', message: `Content-Digest ${name} does not match the body received` };
    checked += 1;
  }
  if (checked === 0) return { ok: false, reason: 'digest_missing', message: `Content-Digest carries no supported algorithm: send ${Object.keys(DIGESTS).join(' or ')}` };
  return { ok: true };
}
