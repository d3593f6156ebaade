import type { KeyObject } from 'node:crypto';
import { createVerifier as libraryVerifier } from 'http-message-signatures';
import { signatureCheckPlacement } from './check-placement.js';
import { ed25519, rawPublicKey, type Ed25519 } from './ed25519.js';
import type { Jwk } from './jwk.js';

/** RFC 9421 §6.2 registered algorithms. */
export const ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'rsa-pss-sha512', 'rsa-v1_5-sha256', 'hmac-sha256'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

// JOSE names a registry may carry in `alg`, mapped to their RFC 9421 counterparts.
const JOSE_ALIASES: Readonly<Record<string, Algorithm>> = {
  EdDSA: 'ed25519',
  Ed25519: 'ed25519',
  ES256: 'ecdsa-p256-sha256',
  ES384: 'ecdsa-p384-sha384',
  PS512: 'rsa-pss-sha512',
  RS256: 'rsa-v1_5-sha256',
  HS256: 'hmac-sha256',
};

/**
 * The IANA JOSE name (RFC 7518, RFC 8037) to write in a JWK's `alg` for each RFC 9421 algorithm. JWK consumers
 * (WebCrypto importKey, JOSE libraries) check `alg` against the JOSE registry and refuse the RFC 9421 names, so keys
 * we write carry these; both spellings are accepted when reading.
 */
export const JOSE_NAMES: Readonly<Record<Algorithm, string>> = {
  'ed25519': 'EdDSA',
  'ecdsa-p256-sha256': 'ES256',
  'ecdsa-p384-sha384': 'ES384',
  'rsa-pss-sha512': 'PS512',
  'rsa-v1_5-sha256': 'RS256',
  'hmac-sha256': 'HS256',
};

/**
 * The one algorithm a key may be used with. The key decides, never the request (RFC 9421 §3.3.7): RSA keys are
 * ambiguous (PSS or v1.5), so they must say which in `alg`. Returns a sentence naming the fix when it cannot tell.
 */
export function algorithmForJwk(jwk: Jwk): Algorithm | string {
  const declared = jwk.alg === undefined ? undefined : (JOSE_ALIASES[jwk.alg] ?? (isAlgorithm(jwk.alg) ? jwk.alg : null));
  if (declared === null) return `unsupported "alg" ${JSON.stringify(jwk.alg)}: use one of ${ALGORITHMS.map((a) => `${JOSE_NAMES[a]} (${a})`).join(', ')}`;
  const implied = impliedAlgorithm(jwk);
  if (typeof implied === 'string' && isAlgorithm(implied)) {
    if (declared !== undefined && declared !== implied) return `"alg" ${jwk.alg} does not fit a ${jwk.kty}/${jwk.crv ?? ''} key (expected ${implied})`;
    return implied;
  }
  if (jwk.kty === 'RSA') {
    if (declared === 'rsa-pss-sha512' || declared === 'rsa-v1_5-sha256') return declared;
    return 'an RSA key needs "alg": "PS512" (rsa-pss-sha512) or "RS256" (rsa-v1_5-sha256)';
  }
  return implied ?? `unsupported key type ${jwk.kty}${jwk.crv ? `/${jwk.crv}` : ''}`;
}

function impliedAlgorithm(jwk: Jwk): Algorithm | string | undefined {
  if (jwk.kty === 'OKP') return jwk.crv === 'Ed25519' ? 'ed25519' : `unsupported OKP curve ${String(jwk.crv)}: use Ed25519`;
  if (jwk.kty === 'EC') {
    if (jwk.crv === 'P-256') return 'ecdsa-p256-sha256';
    if (jwk.crv === 'P-384') return 'ecdsa-p384-sha384';
    return `unsupported EC curve ${String(jwk.crv)}: use P-256 or P-384`;
  }
  if (jwk.kty === 'oct') return 'hmac-sha256';
  return undefined;
}

export interface SignatureCheck {
  (data: Buffer, signature: Buffer): Promise<boolean>;
  /**
   * An Ed25519 key's 32 raw bytes when the process verifies with libsodium: the evaluator threads verify with
   * libsodium too (src/policy/worker.ts), so a check made there answers as this one would.
   */
  readonly ed25519PublicKey?: Uint8Array;
}

/**
 * Binds a key to its algorithm once, at construction. Ed25519, the agents' default, goes to the process's Ed25519
 * backend (libsodium when it loads: 76-78 µs of CPU per verification here against 124-162 µs through OpenSSL; see
 * ed25519.ts), in line or on libuv's thread pool as check-placement.ts says (read on each call). The other
 * algorithms use http-message-signatures' crypto (it verifies the RFC's vectors); its RSA-PSS verifier accepts any
 * salt length (OpenSSL's auto-detect), which includes the RFC's 64 bytes.
 */
export function signatureCheck(key: KeyObject, alg: Algorithm, backend: Ed25519 = ed25519()): SignatureCheck {
  if (alg === 'ed25519') {
    const inline = backend.verifier(key);
    const pooled = backend.pooledVerifier(key);
    const check = (data: Buffer, signature: Buffer) => (signatureCheckPlacement() === 'pool' ? pooled(data, signature) : Promise.resolve(inline(data, signature)));
    return backend.backend === 'libsodium' ? Object.assign(check, { ed25519PublicKey: rawPublicKey(key) }) : check;
  }
  const verify = libraryVerifier(key, alg);
  return async (data, signature) => {
    try {
      return (await verify(data, signature)) === true;
    } catch {
      // Malformed signature bytes (wrong length, bad DER) are an invalid signature, not a crash.
      return false;
    }
  };
}
