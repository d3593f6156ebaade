import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { importPrivateKey, jwkThumbprint, publicJwk, type Jwk, type Jwks } from '../identity/jwk.js';
import { encodePart, LIMITS, payloadProblem, TOKEN_PREFIX } from './token.js';
import type { BreakGlassPayload, IssueBreakGlassOptions, IssuedBreakGlass } from './types.js';

/** Longest lifetime issueBreakGlass() will sign at all (gateways refuse far less by default: 4 h). */
export const MAX_ISSUE_TTL_S = 7 * 24 * 3600;

export interface AdminKey {
  /** Keep offline and secret: whoever holds it can unlock every tool on every gateway that trusts it. */
  readonly privateJwk: Jwk;
  /** Give this to the gateways (`adminJwks`). */
  readonly publicJwks: Jwks;
  readonly thumbprint: string;
}

/** A fresh Ed25519 admin key pair for signing break-glass tokens. */
export function generateBreakGlassKey(): AdminKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as Jwk;
  const thumbprint = jwkThumbprint(jwk);
  return {
    privateJwk: { ...jwk, kid: thumbprint, alg: 'EdDSA', use: 'sig' },
    publicJwks: { keys: [{ ...publicJwk(jwk), kid: thumbprint, alg: 'EdDSA', use: 'sig' }] },
    thumbprint,
  };
}

/**
 * Signs a break-glass token: `tgbg1.<base64url(payload JSON)>.<base64url(Ed25519 over "tgbg1." + payload part)>`.
 * Throws ConfigError naming the fix for a bad key or bad claims (the CLI shows it as is).
 */
export function issueBreakGlass(options: Readonly<IssueBreakGlassOptions>): IssuedBreakGlass {
  const jwk = options.privateJwk;
  if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string') {
    throw new ConfigError('break_glass_key_invalid', 'Break-glass tokens are signed with a private Ed25519 JWK (kty OKP, crv Ed25519, with "d"): make one with `toolgate breakglass keygen`.');
  }
  let key;
  try {
    key = importPrivateKey(jwk);
  } catch (error) {
    throw new ConfigError('break_glass_key_invalid', `The admin key cannot be imported (${error instanceof Error ? error.message : String(error)}); make a new one with \`toolgate breakglass keygen\`.`, { cause: error });
  }
  const ttlS = options.ttlS;
  if (typeof ttlS !== 'number' || !Number.isFinite(ttlS) || ttlS <= 0 || ttlS > MAX_ISSUE_TTL_S) {
    throw new ConfigError('break_glass_ttl_invalid', `ttl must be between 1 second and ${MAX_ISSUE_TTL_S / 86_400} days (gateways accept 4 h by default), got ${String(ttlS)}.`);
  }
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const payload: BreakGlassPayload = {
    v: 1,
    who: options.who,
    why: options.why,
    iat,
    exp: iat + Math.ceil(ttlS),
    scopes: [...(options.scopes ?? [])],
    jti: randomBytes(16).toString('base64url'),
    kid: jwkThumbprint(jwk),
  };
  const problem = payloadProblem(payload as unknown as Record<string, unknown>);
  if (problem !== null) throw new ConfigError('break_glass_claims_invalid', `Cannot issue the token: ${problem} (limits: who ${LIMITS.who}, why ${LIMITS.why} characters).`);
  const signingInput = `${TOKEN_PREFIX}.${encodePart(JSON.stringify(payload))}`;
  return { token: `${signingInput}.${encodePart(sign(null, Buffer.from(signingInput, 'ascii'), key))}`, payload };
}
