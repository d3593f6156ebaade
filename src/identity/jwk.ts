import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

/** A JSON Web Key as it appears in a registry or key file; toolgate members (`agent`, `labels`, …) ride along. */
export interface Jwk {
  readonly kty: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly k?: string;
  readonly d?: string;
  readonly [member: string]: unknown;
}

export interface Jwks {
  readonly keys: readonly Jwk[];
}

// RFC 7638 §3.2: only the required members, in lexicographic order, take part in the thumbprint.
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  OKP: ['crv', 'kty', 'x'],
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/** RFC 7638 JWK thumbprint: base64url(SHA-256(canonical JSON of the required members)). */
export function jwkThumbprint(jwk: Jwk): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty];
  if (members === undefined) throw new TypeError(`unsupported JWK kty "${String(jwk.kty)}": use OKP, EC, RSA or oct`);
  const canonical: Record<string, string> = {};
  for (const member of members) {
    const value = jwk[member];
    if (typeof value !== 'string' || value === '') throw new TypeError(`JWK of kty ${jwk.kty} needs a string "${member}" member`);
    canonical[member] = value;
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** The public members only (never `d`, nor RSA's private factors, nor `k`). */
export function publicJwk(jwk: Jwk): Jwk {
  const members = THUMBPRINT_MEMBERS[jwk.kty];
  if (members === undefined || jwk.kty === 'oct') throw new TypeError(`kty "${String(jwk.kty)}" has no public form`);
  const out: Record<string, unknown> = {};
  for (const member of members) out[member] = jwk[member];
  return out as unknown as Jwk;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export function hasPrivateMembers(jwk: Jwk): boolean {
  return PRIVATE_MEMBERS.some((m) => jwk[m] !== undefined);
}

/** Imports the public half of a JWK (a private JWK yields its public key). Throws TypeError on bad material. */
export function importPublicKey(jwk: Jwk): KeyObject {
  if (jwk.kty === 'oct') throw new TypeError('a symmetric (oct) key is a shared secret, not a public key');
  const material = { ...publicJwk(jwk) } as Record<string, unknown>;
  return createPublicKey({ key: material as never, format: 'jwk' });
}

export function importPrivateKey(jwk: Jwk): KeyObject {
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string' || jwk.k === '') throw new TypeError('oct JWK needs "k"');
    return createSecretKey(Buffer.from(jwk.k, 'base64url'));
  }
  if (typeof jwk.d !== 'string') throw new TypeError('private JWK needs "d"');
  return createPrivateKey({ key: jwk as never, format: 'jwk' });
}
