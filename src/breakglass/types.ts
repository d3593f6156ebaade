import type { JwksDocument } from '../identity/types.js';
import type { Jwk } from '../identity/jwk.js';
import type { BreakGlassFacts } from '../policy/types.js';

/** The signed claims of a break-glass token (`tgbg1.<payload>.<signature>`). Times are epoch seconds. */
export interface BreakGlassPayload {
  readonly v: 1;
  /** The human who broke the glass (free text, e.g. an email). */
  readonly who: string;
  /** Why: incident number, ticket. Recorded with every call made under the token. */
  readonly why: string;
  readonly iat: number;
  readonly exp: number;
  /** Tool names the token unlocks, or "*" for all. */
  readonly scopes: readonly string[];
  /** Random id, in the audit trail, and revocable through `revokedJtis`. */
  readonly jti: string;
  /** RFC 7638 thumbprint of the admin key that signed it. */
  readonly kid: string;
}

/** Stable codes in `input.break_glass.error` when a presented token does not count. */
export const BREAK_GLASS_ERRORS = ['malformed', 'unsupported_version', 'key_unknown', 'signature_invalid', 'ttl_too_long', 'not_yet_valid', 'expired', 'revoked'] as const;
export type BreakGlassError = (typeof BREAK_GLASS_ERRORS)[number];

export interface IssueBreakGlassOptions {
  /** The admin's private Ed25519 JWK (from `toolgate breakglass keygen`). */
  readonly privateJwk: Jwk;
  readonly who: string;
  readonly why: string;
  /** Lifetime in seconds. The gateway refuses tokens longer than its maxTtlS (default 4 h). */
  readonly ttlS: number;
  readonly scopes: readonly string[];
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
}

export interface IssuedBreakGlass {
  readonly token: string;
  readonly payload: BreakGlassPayload;
}

/**
 * Options of createBreakGlassVerifier(). Validated once; a bad value throws ConfigError naming the fix.
 */
export interface BreakGlassVerifierOptions {
  /** Admin public keys: a JWKS document, or JWKS file paths (read once, at construction). Ed25519 only. */
  readonly adminJwks: JwksDocument | string | readonly string[];
  /** Longest lifetime (exp − iat) accepted, in seconds. Default 14_400 (4 h). */
  readonly maxTtlS?: number;
  /** Allowed clock difference with the issuer for `iat`, in seconds. Default 60. */
  readonly clockSkewS?: number;
  /** Longest header value considered; longer is `malformed` without parsing. Default 8192. */
  readonly maxTokenBytes?: number;
  /** `jti`s refused as `revoked` (a leaked token, before its exp). Default none. */
  readonly revokedJtis?: readonly string[];
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
}

/** The result of checking a token, with the payload for the audit trail when the signature was good. */
export interface BreakGlassCheck {
  readonly facts: BreakGlassFacts;
  /** Present when the signature verified (even if expired or too long), so audit can record `jti` and `kid`. */
  readonly payload?: BreakGlassPayload;
}

export interface BreakGlassVerifier {
  /** `input.break_glass` for a `Toolgate-Break-Glass` header value: null without one. Never throws. */
  check(token: string | undefined): BreakGlassFacts | null;
  /** Like check(), plus the verified payload (jti, kid) for the audit event. Never throws. */
  inspect(token: string | undefined): BreakGlassCheck | null;
}

/** Request header carrying the token (lower-case, as in Node's header map). */
export const BREAK_GLASS_HEADER = 'toolgate-break-glass';
