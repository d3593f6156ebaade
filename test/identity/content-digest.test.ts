import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodySha256, checkContentDigest, contentDigest } from '../../src/identity/index.js';

const body = Buffer.from('{"to":["accountant@ledger-partners.example"],"subject":"Receipts"}');
const b64 = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('base64');
const good = `sha-256=:${b64('sha256', body)}:`;
const wrong = `sha-256=:${b64('sha256', Buffer.from('other'))}:`;

describe('checkContentDigest', () => {
  // The exact field a signer writes passes without the structured-field parser; every other spelling is parsed, and
  // the outcome is what RFC 9530 and RFC 9651 say for it.
  it.each([
    ['the field contentDigest() writes', contentDigest(body), 'ok'],
    ['the same, written by hand', good, 'ok'],
    ['with sha-512 beside it, both right', `${good}, sha-512=:${b64('sha512', body)}:`, 'ok'],
    ['with sha-512 beside it, wrong', `${good}, sha-512=:${b64('sha512', Buffer.from('x'))}:`, 'digest_mismatch'],
    ['sha-512 alone', `sha-512=:${b64('sha512', body)}:`, 'ok'],
    ['a parameter on the member', `${good};p=1`, 'ok'],
    ['leading space', ` ${good}`, 'ok'],
    ['the digest of another body', wrong, 'digest_mismatch'],
    ['the right bytes as a string, not a byte sequence', `sha-256="${b64('sha256', body)}"`, 'digest_mismatch'],
    ['not a dictionary', 'sha-256=:::', 'digest_mismatch'],
    ['an unknown algorithm alone', `md5=:${b64('md5', body)}:`, 'digest_missing'],
    ['upper-case algorithm name (not a structured key)', `SHA-256=:${b64('sha256', body)}:`, 'digest_mismatch'],
  ])('%s', (_name, field, expected) => {
    const check = checkContentDigest(field, body);
    expect(check.ok ? 'ok' : check.reason).toBe(expected);
  });

  it('refuses a missing field', () => {
    expect(checkContentDigest(undefined, body)).toMatchObject({ ok: false, reason: 'digest_missing' });
  });

  it('hashes each body once and follows a different body with the same bytes', () => {
    const copy = Buffer.from(body);
    expect(bodySha256(body)).toBe(bodySha256(body));
    expect(bodySha256(copy).equals(bodySha256(body))).toBe(true);
    expect(checkContentDigest(good, Buffer.from('{"to":["evil@example.com"]}'))).toMatchObject({ ok: false, reason: 'digest_mismatch' });
  });
});
