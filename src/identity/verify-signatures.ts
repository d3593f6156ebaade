import { createHash } from 'node:crypto';
import { UnavailableError } from '../errors.js';
import type { Algorithm, SignatureCheck } from './algorithms.js';
import { ComponentError, type MessageView } from './components.js';
import { checkContentDigest } from './content-digest.js';
import { missingCoverage } from './coverage.js';
import type { SignaturePolicy } from './config.js';
import { candidateBase, signatureBaseBytes } from './signature-base.js';
import { isMalformed, type MalformedCandidate, type SignatureCandidate } from './signature-fields.js';
import { IdentityError, type IdentityReason, type NonceStore, type PendingAgent, type VerifiedAgent } from './types.js';

/** The key a candidate names, as found by a scheme's resolver (local registry, Web Bot Auth directory). */
export interface ResolvedKey {
  readonly agent: string;
  readonly thumbprint: string;
  readonly alg: Algorithm;
  readonly check: SignatureCheck;
  readonly labels: Readonly<Record<string, string>>;
  readonly signatureAgent?: string;
  /** Nonces are remembered per key, so one agent cannot burn another's nonces. */
  readonly replayScope: string;
}

export type KeyResolver = (candidate: SignatureCandidate) => Promise<ResolvedKey>;

/** How one kind of signature is judged: plain RFC 9421 against the registry, or Web Bot Auth against directories. */
export interface Profile {
  readonly scheme: 'rfc9421' | 'web-bot-auth';
  readonly policy: SignaturePolicy;
  readonly resolveKey: KeyResolver;
  /** Scheme-specific checks on a candidate before its key is looked up (e.g. Web Bot Auth's Signature-Agent). */
  readonly precheck?: (candidate: SignatureCandidate) => void;
}

export interface VerifyContext {
  readonly view: MessageView;
  readonly body: Buffer;
  /** Which labels count: 'any' (header order) or a list (in preference order). */
  readonly labels: 'any' | readonly string[];
  /** The profile a candidate is judged by. */
  readonly profileFor: (candidate: SignatureCandidate) => Profile;
  readonly clockSkewMs: number;
  readonly maxAgeMs: number;
  readonly nonceStore: NonceStore | undefined;
  readonly nowMs: number;
  /** The clock when the replay key is recorded, which may be later than `nowMs` (a check made in the evaluator thread). */
  readonly now: () => number;
}

/**
 * Picks the signature that counts and verifies it. Labels are tried in Signature-Input order (or the configured
 * order); the first to pass wins. A replay is final: trying the next label would let a replayed request through
 * on a second signature that was never the one recorded.
 */
export async function verifySignatures(candidates: readonly (SignatureCandidate | MalformedCandidate)[], ctx: VerifyContext): Promise<VerifiedAgent> {
  const selected = selectCandidates(candidates, ctx);
  let first: IdentityError | undefined;
  for (const [i, candidate] of selected.entries()) {
    if (isMalformed(candidate)) {
      first ??= candidate.error;
      continue;
    }
    try {
      const agent = await verifyCandidate(candidate, ctx.profileFor(candidate), ctx);
      await spendOthers(selected.slice(i + 1), ctx);
      return agent;
    } catch (error) {
      if (!(error instanceof IdentityError) || error.reason === 'replayed') throw error;
      first ??= error;
    }
  }
  throw first ?? new IdentityError('signature_missing', 'no signature to verify');
}

/**
 * Records the replay keys of every other signature on the request that would also have passed. Otherwise a replay
 * could strip the signature that counted and pass on the next one, whose nonce was never recorded. Failures of the
 * others do not matter (they never counted), except a replay store that cannot be trusted: that fails closed.
 */
async function spendOthers(others: readonly (SignatureCandidate | MalformedCandidate)[], ctx: VerifyContext): Promise<void> {
  for (const other of others) {
    if (isMalformed(other)) continue;
    try {
      await verifyCandidate(other, ctx.profileFor(other), ctx);
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
    }
  }
}

function selectCandidates<C extends { label: string }>(candidates: readonly C[], ctx: VerifyContext): C[] {
  const { labels } = ctx;
  if (labels === 'any') return [...candidates];
  const selected = labels.flatMap((label) => candidates.filter((c) => c.label === label));
  if (selected.length === 0) throw new IdentityError('signature_missing', `no signature labelled ${labels.join(' or ')} (found ${candidates.map((c) => c.label).join(', ')})`, { scheme: 'rfc9421' });
  return selected;
}

async function verifyCandidate(c: SignatureCandidate, profile: Profile, ctx: VerifyContext): Promise<VerifiedAgent> {
  return verifyChecked(await checkCandidate(c, profile, ctx), ctx);
}

/** The rest of the check, in its order: the signature's arithmetic, then the body's digest, then the replay key. */
async function verifyChecked(checked: CheckedCandidate, ctx: VerifyContext): Promise<VerifiedAgent> {
  if (!(await checked.key.check(checked.base, checked.candidate.signature))) throw checked.invalid();
  checkDigest(checked, ctx);
  return remember(checked, ctx);
}

/**
 * Like verifySignatures, but when everything about the request's one signature holds except the Ed25519 arithmetic
 * (the key, its algorithm, the times, the coverage, the base and the body's digest), that arithmetic is left to the
 * caller: the result is a claim and its proof, and `settle` records the replay key once the proof held. Anything
 * else (several signatures, another algorithm, a failure before the arithmetic, a digest that does not match, whose
 * reason depends on the arithmetic's verdict) is verified here, whole, exactly as verifySignatures does, so the
 * caller sees the same answer and the same reason for every request either way.
 */
export async function prepareSignatures(candidates: readonly (SignatureCandidate | MalformedCandidate)[], ctx: VerifyContext): Promise<VerifiedAgent | PendingAgent> {
  const selected = selectCandidates(candidates, ctx);
  const only = selected.length === 1 ? selected[0]! : undefined;
  if (only === undefined || isMalformed(only)) return verifySignatures(candidates, ctx);
  const checked = await checkCandidate(only, ctx.profileFor(only), ctx);
  const publicKey = checked.key.check.ed25519PublicKey;
  if (publicKey === undefined || only.signature.byteLength !== ED25519_SIGNATURE_BYTES || !digestHolds(checked, ctx)) return verifyChecked(checked, ctx);
  return {
    claim: agentOf(checked),
    proof: { publicKey, signature: only.signature, message: checked.base },
    invalid: () => checked.invalid(),
    settle: () => remember(checked, ctx),
    verifyHere: () => verifyChecked(checked, ctx),
  };
}

const ED25519_SIGNATURE_BYTES = 64;

/** A candidate that passed every check but the signature's arithmetic, the digest and the replay store. */
interface CheckedCandidate {
  readonly candidate: SignatureCandidate;
  readonly profile: Profile;
  readonly key: ResolvedKey;
  readonly base: Buffer;
  readonly validUntilMs: number;
  readonly err: (reason: IdentityReason, message: string, cause?: unknown) => IdentityError;
  /** The refusal when the signature does not verify. */
  readonly invalid: () => IdentityError;
}

async function checkCandidate(c: SignatureCandidate, profile: Profile, ctx: VerifyContext): Promise<CheckedCandidate> {
  const { params, label } = c;
  const keyId = params.keyid;
  const claimed = keyId === undefined ? { scheme: profile.scheme } : { scheme: profile.scheme, keyId };
  const err = (reason: IdentityReason, message: string, cause?: unknown): IdentityError =>
    new IdentityError(reason, `signature ${label}: ${message}`, claimed, cause === undefined ? undefined : { cause });
  const { policy } = profile;

  if (policy.tag !== undefined && params.tag !== policy.tag) throw err('coverage_insufficient', `tag must be "${policy.tag}"${params.tag === undefined ? '' : `, not "${params.tag}"`}`);
  if (params.created === undefined) throw err('coverage_insufficient', 'no created parameter: sign with created=<unix seconds>');
  if (policy.requireExpires && params.expires === undefined) throw err('coverage_insufficient', 'no expires parameter, which this gateway requires');
  if (policy.requireNonce && params.nonce === undefined) throw err('coverage_insufficient', 'no nonce parameter, which this gateway requires');
  const validUntilMs = checkTimes(params.created, params.expires, ctx, err);

  const hasBody = ctx.body.length > 0;
  const missing = missingCoverage(c.components, policy.requiredComponents, hasBody);
  if (missing.length > 0) throw err('coverage_insufficient', `does not cover ${missing.join(', ')}${hasBody ? ' (content-digest and content-type are required with a body)' : ''}`);
  profile.precheck?.(c);

  if (keyId === undefined) throw err('key_unknown', 'no keyid parameter: sign with keyid=<kid or JWK thumbprint>');
  const key = await profile.resolveKey(c);
  if (params.alg !== undefined && params.alg !== key.alg) throw err('alg_mismatch', `alg "${params.alg}" does not match the key's algorithm ${key.alg}`);

  let base: Buffer;
  try {
    base = signatureBaseBytes(candidateBase(ctx.view, c.components, c.signatureParams));
  } catch (error) {
    if (error instanceof ComponentError) throw err('signature_invalid', error.message, error);
    throw err('signature_malformed', `cannot build the signature base: ${(error as Error).message}`, error);
  }
  const invalid = () => err('signature_invalid', `does not verify with key ${keyId} (${key.alg})`);
  return { candidate: c, profile, key, base, validUntilMs, err, invalid };
}

/** The body's Content-Digest, checked after the signature: a digest_mismatch then means "authentic headers, altered body". */
function checkDigest(checked: CheckedCandidate, ctx: VerifyContext): void {
  const digestField = ctx.view.headers['content-digest'];
  if (ctx.body.length > 0 || digestField !== undefined) {
    const digest = checkContentDigest(Array.isArray(digestField) ? digestField.join(', ') : digestField, ctx.body);
    if (!digest.ok) throw checked.err(digest.reason, digest.message);
  }
}

function digestHolds(checked: CheckedCandidate, ctx: VerifyContext): boolean {
  try {
    checkDigest(checked, ctx);
    return true;
  } catch (error) {
    if (error instanceof IdentityError) return false;
    throw error;
  }
}

/**
 * Records the signature's replay key (a replay is refused) and says who signed. The signature must still be valid
 * when its key is recorded, not only when the request arrived: a key is remembered until the signature stops being
 * valid, so a copy accepted later than that would find the original's key gone. Between arrival and this moment a
 * call may wait (a directory fetch, the evaluator's queue: claim.ts), and a copy sent just before expiry would
 * otherwise run twice.
 */
async function remember(checked: CheckedCandidate, ctx: VerifyContext): Promise<VerifiedAgent> {
  const { key, candidate, base, validUntilMs } = checked;
  const { params } = candidate;
  if (ctx.nonceStore !== undefined) {
    const at = ctx.now();
    if (at > validUntilMs) throw checked.err('signature_expired', `expired ${at - validUntilMs} ms before the gateway could record it (it arrived in time): sign each request when sending it`);
    // Without a nonce, the signed content is the replay key, not the signature bytes: ECDSA signatures are malleable
    // ((r, s) and (r, n - s) both verify), so hashing the bytes would let a replay through under a twin signature.
    const replayKey = `${key.replayScope}:${params.nonce !== undefined ? `n:${params.nonce}` : `b:${createHash('sha256').update(base).digest('base64url')}`}`;
    let first: boolean;
    try {
      first = await ctx.nonceStore.remember(replayKey, Math.max(1000, validUntilMs - at));
    } catch (cause) {
      throw new UnavailableError('replay_store_unavailable', `replay store failed, refusing the request: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    if (!first) throw checked.err('replayed', params.nonce !== undefined ? `nonce "${params.nonce}" was already used` : 'this exact signature was already used: sign each request anew');
  }
  return agentOf(checked);
}

function agentOf(checked: CheckedCandidate): VerifiedAgent {
  const { key, candidate, profile } = checked;
  const { params, label } = candidate;
  return {
    verified: true,
    scheme: profile.scheme,
    id: key.agent,
    keyId: params.keyid!,
    thumbprint: key.thumbprint,
    ...(key.signatureAgent === undefined ? {} : { signatureAgent: key.signatureAgent }),
    labels: key.labels,
    label,
    created: params.created!,
    ...(params.expires === undefined ? {} : { expires: params.expires }),
    ...(params.nonce === undefined ? {} : { nonce: params.nonce }),
    covered: candidate.components.map((component) => component.id),
  };
}

/** Checks created/expires against the clock; returns when (ms) the signature stops being acceptable. */
function checkTimes(created: number, expires: number | undefined, ctx: VerifyContext, err: (reason: IdentityReason, message: string) => IdentityError): number {
  const createdMs = created * 1000;
  if (expires !== undefined && expires < created) throw err('signature_malformed', 'expires is before created');
  if (createdMs > ctx.nowMs + ctx.clockSkewMs) throw err('signature_not_yet_valid', `created is ${Math.round((createdMs - ctx.nowMs) / 1000)} s in the future (allowed skew ${ctx.clockSkewMs / 1000} s): check the signer's clock`);
  let until = createdMs + ctx.maxAgeMs + ctx.clockSkewMs;
  if (ctx.nowMs > until) throw err('signature_expired', `created ${Math.round((ctx.nowMs - createdMs) / 1000)} s ago, older than the ${ctx.maxAgeMs / 1000} s allowed: sign each request when sending it`);
  if (expires !== undefined) {
    const expiresMs = expires * 1000 + ctx.clockSkewMs;
    if (ctx.nowMs > expiresMs) throw err('signature_expired', `expired ${Math.round((ctx.nowMs - expires * 1000) / 1000)} s ago`);
    until = Math.min(until, expiresMs);
  }
  return until;
}
