import { createHash, timingSafeEqual } from 'node:crypto';
import type { DigestCheck } from './content-digest.js';

const ALGORITHMS: Readonly<Record<string, string>> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/**
 * RFC 3230 `Digest: SHA-256=<base64>` as draft-cavage signers send it. Every supported algorithm present must match;
 * at least one must be present (an md5 or unknown one alone proves nothing).
 */
export function checkDigestHeader(field: string | undefined, body: Uint8Array): DigestCheck {
  if (field === undefined) return { ok: false, reason: 'digest_missing', message: 'request has a body but no Digest header: send Digest: SHA-256=<base64 of SHA-256(body)>' };
  let checked = 0;
  for (const part of field.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { ok: false, reason: 'digest_mismatch', message: 'Digest header is not "<algorithm>=<base64>"' };
    const hash = ALGORITHMS[part.slice(0, eq).trim().toLowerCase()];
    if (hash === undefined) continue;
    const claimed = Buffer.from(part.slice(eq + 1).trim(), 'base64');
    const actual = createHash(hash).update(body).digest();
    if (claimed.length !== actual.length || !timingSafeEqual(claimed, actual)) return { ok: false, reason: 'digest_mismatch', message: 'Digest header does not match the body received' };
    checked += 1;
  }
  if (checked === 0) return { ok: false, reason: 'digest_missing', message: 'Digest header carries no SHA-256 or SHA-512 value' };
  return { ok: true };
}
