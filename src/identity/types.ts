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

/** An Ed25519 signature still to be checked: the raw public key, the 64 signature bytes and the signature base. */
export interface Ed25519Proof {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly message: Uint8Array;
}

/**
 * A request whose signature passed every check but the Ed25519 arithmetic (Verifier.prepare). `claim` is who the
 * agent is if `proof` holds, and nothing until then: whoever checks the proof calls `settle` when it holds (the
 * replay key is recorded then: a replay throws `replayed`) and `invalid` for the refusal when it does not.
 */
export interface PendingAgent {
  readonly claim: VerifiedAgent;
  readonly proof: Ed25519Proof;
  settle(): Promise<VerifiedAgent>;
  invalid(): IdentityError;
  /** The check made here after all, as `verify` makes it: the agent, or the IdentityError (`invalid()`, `replayed`). */
  verifyHere(): Promise<VerifiedAgent>;
}

/** The identity stage: resolves who signed a request or throws IdentityError. Built once, used per request. */
export interface Verifier {
  verify(request: RequestFacts): Promise<VerifiedAgent>;
  /**
   * Optional: verify, except that an Ed25519 signature whose every other check passed may come back as a
   * PendingAgent for the caller to check elsewhere (the gateway checks it in the evaluator thread that decides the
   * call). Everything else answers as `verify` would, with the same reasons.
   */
  prepare?(request: RequestFacts): Promise<VerifiedAgent | PendingAgent>;
  /** How full the replay store is, when it can say (the in-memory store; Redis answers for itself): for /readyz. */
  replayStore?(): ReplayStoreStats | undefined;
  close?(): Promise<void>;
}

/**
 * A replay store's fill level. When `entries` reach `maxEntries` (or the table cannot grow past `maxBytes`) while no
 * nonce has expired, signed calls are refused with 503 `replay_store_unavailable` until some expire.
 */
export interface ReplayStoreStats {
  /** Nonces held: those not yet expired, and expired ones not yet reclaimed. */
  readonly entries: number;
  readonly maxEntries: number;
  /** Bytes of its table now, and the most it may grow to. */
  readonly bytes: number;
  readonly maxBytes: number;
}

export function isPending(agent: VerifiedAgent | PendingAgent): agent is PendingAgent {
  return 'proof' in agent;
}

/** Replay protection state: one atomic "first time?" question. Memory and Redis implementations share a contract. */
export interface NonceStore {
  /** Records `key` for `ttlMs`; resolves true when it was not already recorded (first sight), false on a replay. */
  remember(key: string, ttlMs: number): Promise<boolean>;
  /** Its fill level, when it keeps the nonces itself (MemoryNonceStore). */
  stats?(): ReplayStoreStats;
  close?(): Promise<void>;
}

/** A JSON Web Key Set as stored in a registry file; each key carries `kid`, `agent` and optionally `labels`, `nbf`, `exp`. */
export interface JwksDocument {
  readonly keys: readonly Readonly<Record<string, unknown>>[];
}

/**
 * Options of createVerifier(). Validated once; a bad value throws ConfigError naming the fix.
 * Times are in milliseconds.
 */
export interface IdentityOptions {
  /** JWKS files of the key registry (read once at construction). */
  readonly jwksFiles?: readonly string[];
  /** In-memory JWKS documents of the key registry. */
  readonly jwks?: JwksDocument | readonly JwksDocument[];
  /** hmac-sha256 keys: `{"kty":"oct","k":…,"kid":…,"agent":…}`. Only these may use hmac-sha256. */
  readonly sharedSecrets?: readonly Readonly<Record<string, unknown>>[];
  /** RFC 7638 thumbprints of revoked keys (→ key_revoked), also applied to Web Bot Auth directory keys. */
  readonly revokedThumbprints?: readonly string[];
  /** Refuse the RFC 9421 published test keys (registry: ConfigError; directories: key_revoked). Default false. */
  readonly production?: boolean;
  /**
   * Components every RFC 9421 signature must cover. Default `['@method', '@authority', '@path', '@query']`.
   * `@target-uri` satisfies @authority/@scheme/@path/@query; `@request-target` satisfies @path/@query.
   * `content-digest` and `content-type` are always required when the body is non-empty.
   */
  readonly requiredComponents?: readonly string[];
  /** Which Signature-Input labels count: `'any'` (default: the first, in header order, that passes) or a list. */
  readonly labels?: 'any' | readonly string[];
  /** A `tag` every RFC 9421 signature must carry (default: none required). */
  readonly tag?: string;
  /** Require an `expires` parameter. Default false (created + maxAgeMs bounds the signature anyway). */
  readonly requireExpires?: boolean;
  /** Require a `nonce` parameter. Default false: without one, the signature bytes are the replay key. */
  readonly requireNonce?: boolean;
  /** Allowed clock difference with signers. Default 30_000. */
  readonly clockSkewMs?: number;
  /** Oldest `created` accepted. Default 300_000. */
  readonly maxAgeMs?: number;
  /** Replay store; `false` turns replay protection off. Default: a MemoryNonceStore. */
  readonly nonceStore?: NonceStore | false;
  /** Longest Signature-Input / Signature / Signature-Agent / Authorization value accepted. Default 8192. */
  readonly maxHeaderBytes?: number;
  /** Most signatures considered on one request. Default 8. */
  readonly maxSignatures?: number;
  /** Clock in ms since the epoch, for tests. Default Date.now. */
  readonly now?: () => number;
  /** Accept Web Bot Auth signatures (tag "web-bot-auth", keys from the Signature-Agent's directory). Default false. */
  readonly webBotAuth?: WebBotAuthOptions | false;
  /** Accept legacy draft-cavage `Authorization: Signature …` (keys from the same registry). Default false. */
  readonly cavage?: CavageOptions | false;
}

/** Legacy draft-cavage-http-signatures, verified through the http-signature package with a strict policy on top. */
export interface CavageOptions {
  /** Headers every signature must cover. Default `['(request-target)', 'host', 'date']`; `digest` is added with a body. */
  readonly requiredHeaders?: readonly string[];
  /**
   * Accepted `algorithm` values. Default `['ed25519-sha512', 'ecdsa-sha256', 'rsa-sha256', 'rsa-sha512']`.
   * `hmac-sha256` works only when listed here and the key is one of `sharedSecrets`.
   */
  readonly algorithms?: readonly string[];
}

/** Web Bot Auth: keys come from `<Signature-Agent origin>/.well-known/http-message-signatures-directory`. */
export interface WebBotAuthOptions {
  /** Components each signature must cover. Default: the same as `requiredComponents` (the draft's minimum is @authority). */
  readonly requiredComponents?: readonly string[];
  /** Require a `nonce`. Default false. */
  readonly requireNonce?: boolean;
  /** Directory origins accepted (e.g. `https://bots.example`). Default: any public origin. */
  readonly trustedDirectories?: readonly string[];
  /** Hosts or IPs fetched even though loopback/private/link-local (e.g. `127.0.0.1` in tests). Default none. */
  readonly allowAddresses?: readonly string[];
  /** Allow http:// directories. Only for tests and loopback setups. Default false. */
  readonly allowHttp?: boolean;
  /** Use only keys that sign the directory response (proof of possession). Default true. */
  readonly requireDirectorySignature?: boolean;
  /** Wall-clock limit per directory fetch. Default 3000. */
  readonly fetchTimeoutMs?: number;
  /** Largest directory body accepted. Default 65536. */
  readonly maxDirectoryBytes?: number;
  /** Most keys in one directory. Default 32. */
  readonly maxKeys?: number;
  /**
   * Cache lifetime when the directory sends neither Cache-Control max-age nor Expires. Default 3_600_000. max-age,
   * or Expires minus Date, is clamped to [minTtlMs, maxTtlMs].
   */
  readonly defaultTtlMs?: number;
  /** Default 60_000: a directory cannot force a fetch per request. */
  readonly minTtlMs?: number;
  /** Default 86_400_000. */
  readonly maxTtlMs?: number;
  /** How long a failed fetch is remembered before retrying. Default 60_000, at most 300_000. */
  readonly negativeTtlMs?: number;
  /** How long the last good copy keeps serving while refreshes fail. Default 3_600_000. */
  readonly maxStaleMs?: number;
  /** Most directories cached. Default 1024. */
  readonly maxDirectories?: number;
  /**
   * Most directory fetches in flight at once, all origins together (requests name directories before they are
   * authenticated). Each origin has at most one fetch in flight, so a slow directory holds one slot however many
   * requests name it; this cap bounds sockets and buffers (× maxDirectoryBytes). Default 256.
   */
  readonly maxConcurrentFetches?: number;
}
