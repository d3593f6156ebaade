import { createHmac, generateKeyPairSync, randomBytes, sign, constants, type KeyObject } from 'node:crypto';
import { algorithmForJwk, isAlgorithm, JOSE_NAMES, type Algorithm } from '../identity/algorithms.js';
import { importPrivateKey, jwkThumbprint, publicJwk, type Jwk } from '../identity/jwk.js';

export { jwkThumbprint };

export interface AgentKey {
  /** Keep secret: the private JWK, with `kid` (the thumbprint unless given) and `alg` (its JOSE name, e.g. EdDSA). */
  readonly privateJwk: Jwk;
  /** Register this one: the public JWK, `kid` = RFC 7638 thumbprint. */
  readonly publicJwk: Jwk;
  readonly thumbprint: string;
}

/** Makes a fresh signing key. Ed25519 unless another RFC 9421 algorithm is asked for. */
export function generateAgentKey(alg: Exclude<Algorithm, 'hmac-sha256'> = 'ed25519'): AgentKey {
  const pair = keyPair(alg);
  const jwk = pair.privateKey.export({ format: 'jwk' }) as Jwk;
  const thumbprint = jwkThumbprint(jwk);
  // The JOSE name: WebCrypto and JOSE libraries refuse to import a JWK whose "alg" is an RFC 9421 name.
  const privateJwk: Jwk = { ...jwk, kid: thumbprint, alg: JOSE_NAMES[alg] };
  return { privateJwk, publicJwk: { ...publicJwk(jwk), kid: thumbprint, alg: JOSE_NAMES[alg] }, thumbprint };
}

/** A new hmac-sha256 shared secret as an oct JWK (the verifier must list it in sharedSecrets). */
export function generateSharedSecret(kid: string): Jwk {
  return { kty: 'oct', k: randomBytes(32).toString('base64url'), kid, alg: JOSE_NAMES['hmac-sha256'] };
}

function keyPair(alg: Exclude<Algorithm, 'hmac-sha256'>): { privateKey: KeyObject } {
  switch (alg) {
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ecdsa-p256-sha256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ecdsa-p384-sha384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-pss-sha512':
    case 'rsa-v1_5-sha256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

export type SignFunction = (data: Buffer) => Buffer;

/** Imports a private JWK once and returns its algorithm and a signing function. */
export function importSigningKey(privateJwk: Jwk): { alg: Algorithm; sign: SignFunction; thumbprint: string } {
  const alg = algorithmForJwk(privateJwk);
  if (!isAlgorithm(alg)) throw new TypeError(`cannot sign with this key: ${alg}`);
  const key = importPrivateKey(privateJwk);
  return { alg, sign: signer(key, alg), thumbprint: jwkThumbprint(privateJwk) };
}

function signer(key: KeyObject, alg: Algorithm): SignFunction {
  switch (alg) {
    case 'ed25519':
      return (data) => sign(null, data, key);
    case 'ecdsa-p256-sha256':
      return (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'ecdsa-p384-sha384':
      return (data) => sign('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
    // RFC 9421 §3.3.1: RSASSA-PSS with SHA-512 and a 64-byte salt.
    case 'rsa-pss-sha512':
      return (data) => sign('sha512', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 });
    case 'rsa-v1_5-sha256':
      return (data) => sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'hmac-sha256':
      return (data) => createHmac('sha256', key).update(data).digest();
  }
}
