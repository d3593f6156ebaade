import { ToolgateError } from '../errors.js';

/** The request as received, before any framework rewrote it. `rawBody` is the exact bytes on the wire. */
export interface RequestFacts {
  readonly method: string;
  /** Original request target: path plus query, e.g. `/tools/email.send?x=1` (never a router-relative URL). */
  readonly target: string;
  readonly scheme: 'http' | 'https';
  /** Value of the Host header (or :authority). */
  readonly authority: string;
  /** Node's lower-cased header map. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: Buffer;
}

export type IdentityScheme = 'rfc9421' | 'web-bot-auth' | 'cavage' | 'none';

/** Stable reason codes of the HTTP contract (DESIGN.md); README lists what each means and how to fix it. */
export const IDENTITY_REASONS = [
  'signature_missing',
  'signature_malformed',
  'signature_invalid',
  'key_unknown',
  'key_revoked',
  'signature_expired',
  'signature_not_yet_valid',
  'coverage_insufficient',
  'digest_mismatch',
  'digest_missing',
  'alg_mismatch',
  'replayed',
  'directory_unavailable',
] as const;
export type IdentityReason = (typeof IDENTITY_REASONS)[number];

/** A verified agent, as it appears in the policy input's `agent` member (plus verification details). */
export interface VerifiedAgent {
  readonly verified: true;
  readonly scheme: Exclude<IdentityScheme, 'none'>;
  /** Agent id from the key registry (or the directory's agent for Web Bot Auth). */
  readonly id: string;
  readonly keyId: string;
  /** RFC 7638 JWK thumbprint (base64url, SHA-256) of the verifying key. */
  readonly thumbprint: string;
  readonly signatureAgent?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Signature label used (RFC 9421), e.g. `sig1`. */
  readonly label?: string;
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly covered: readonly string[];
}

/** A request that did not prove who sent it: 401 with `reason`. */
export class IdentityError extends ToolgateError {
  override readonly name = 'IdentityError';
  declare readonly reason: IdentityReason;
  /** What we could tell about the claimed key even though verification failed (for spans and audit). */
  readonly claimed: { readonly scheme: IdentityScheme; readonly keyId?: string };

  constructor(reason: IdentityReason, message: string, claimed: { scheme: IdentityScheme; keyId?: string } = { scheme: 'none' }, options?: { cause?: unknown }) {
    super('unauthenticated', reason, message, options);
    this.claimed = claimed;
  }
}

/** The identity stage: resolves who signed a request or throws IdentityError. Built once, used per request. */
export interface Verifier {
  verify(request: RequestFacts): Promise<VerifiedAgent>;
  close?(): Promise<void>;
}
