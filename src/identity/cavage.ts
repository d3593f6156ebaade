import { createHash, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { UnavailableError } from '../errors.js';
import type { Algorithm } from './algorithms.js';
import type { CavageConfig } from './config.js';
import { checkDigestHeader } from './digest-header.js';
import type { KeyRegistry, RegisteredKey } from './registry.js';
import { IdentityError, type IdentityReason, type NonceStore, type RequestFacts, type VerifiedAgent } from './types.js';

// http-signature ships no types; this is the part of its API we use.
interface ParsedCavage {
  readonly keyId: string;
  readonly signingString: string;
  readonly params: { readonly algorithm: string; readonly headers: readonly string[]; readonly signature: string; readonly created?: string; readonly expires?: string };
}
interface HttpSignature {
  parseRequest(request: object, options: object): ParsedCavage;
  verifySignature(parsed: ParsedCavage, key: unknown): boolean;
  verifyHMAC(parsed: ParsedCavage, secret: Buffer): boolean;
}
interface Sshpk {
  parseKey(data: string, format: string): unknown;
}

const require = createRequire(import.meta.url);
const httpSignature = require('http-signature') as HttpSignature;
// The sshpk instance http-signature itself uses, so its Key.isKey check accepts our pre-parsed keys.
const sshpk = createRequire(require.resolve('http-signature'))('sshpk') as Sshpk;

// The algorithm is fixed by the key; these are the cavage names each RFC 9421 key algorithm may appear under.
const CAVAGE_NAMES: Readonly<Record<Algorithm, readonly string[]>> = {
  'ed25519': ['ed25519-sha512'],
  'ecdsa-p256-sha256': ['ecdsa-sha256'],
  'ecdsa-p384-sha384': [],
  'rsa-pss-sha512': [],
  'rsa-v1_5-sha256': ['rsa-sha256', 'rsa-sha512'],
  'hmac-sha256': ['hmac-sha256'],
};

export interface CavageContext {
  readonly config: CavageConfig;
  readonly registry: KeyRegistry;
  readonly clockSkewMs: number;
  readonly maxAgeMs: number;
  readonly nonceStore: NonceStore | undefined;
}

/** Verifier for `Authorization: Signature …`. Keys are converted for http-signature once, here. */
export function createCavageVerifier(ctx: CavageContext): (request: RequestFacts, authorization: string, nowMs: number) => Promise<VerifiedAgent> {
  const converted = new Map<RegisteredKey, unknown>();
  for (const key of ctx.registry.keys()) {
    try {
      if (key.sharedSecret) converted.set(key, key.key.export());
      else if (CAVAGE_NAMES[key.alg].length > 0) converted.set(key, sshpk.parseKey(spki(key.key), 'pem'));
    } catch {
      // A key sshpk cannot read still works for RFC 9421; for cavage its signatures simply never verify.
    }
  }

  return async (request, _authorization, nowMs) => {
    const fail = (reason: IdentityReason, message: string, keyId?: string, cause?: unknown) =>
      new IdentityError(reason, `cavage: ${message}`, keyId === undefined ? { scheme: 'cavage' } : { scheme: 'cavage', keyId }, cause === undefined ? undefined : { cause });
    const hasBody = request.rawBody.length > 0;
    const required = hasBody && !ctx.config.requiredHeaders.includes('digest') ? [...ctx.config.requiredHeaders, 'digest'] : [...ctx.config.requiredHeaders];
    let parsed: ParsedCavage;
    try {
      // http-signature reads method, url (the original target, never a router-relative one) and headers.
      const shaped = { method: request.method, url: request.target, httpVersion: '1.1', headers: request.headers };
      // Its clock is Date.now and not injectable: time is checked below against ours, so its own check is opened wide.
      parsed = httpSignature.parseRequest(shaped, { headers: required, strict: true, clockSkew: 1e12, algorithms: ctx.config.algorithms, authorizationHeaderName: 'authorization' });
    } catch (error) {
      throw mapParseError(error, fail);
    }
    const keyId = parsed.keyId;
    checkTimes(request, parsed, nowMs, ctx, (reason, message) => fail(reason, message, keyId));

    const found = ctx.registry.lookup(keyId, nowMs);
    if (!found.ok) throw fail(found.reason, found.message, keyId);
    const { key } = found;
    const algorithm = parsed.params.algorithm.toLowerCase();
    if (!CAVAGE_NAMES[key.alg].includes(algorithm)) throw fail('alg_mismatch', `algorithm ${algorithm} does not fit key ${keyId} (${key.alg}${CAVAGE_NAMES[key.alg].length ? `: use ${CAVAGE_NAMES[key.alg].join(' or ')}` : ', which draft-cavage cannot carry'})`, keyId);
    let valid: boolean;
    try {
      const material = converted.get(key);
      valid = key.sharedSecret ? httpSignature.verifyHMAC(parsed, material as Buffer) : httpSignature.verifySignature(parsed, material);
    } catch {
      valid = false;
    }
    if (!valid) throw fail('signature_invalid', `signature does not verify with key ${keyId}`, keyId);

    const digestField = request.headers.digest;
    if (hasBody || digestField !== undefined) {
      const digest = checkDigestHeader(Array.isArray(digestField) ? digestField.join(',') : digestField, request.rawBody);
      if (!digest.ok) throw fail(digest.reason, digest.message, keyId);
    }

    const createdAt = dateOf(request, parsed);
    if (ctx.nonceStore !== undefined) {
      const until = Math.min(createdAt + ctx.maxAgeMs, parsed.params.expires === undefined ? Infinity : Number(parsed.params.expires) * 1000) + ctx.clockSkewMs;
      let first: boolean;
      try {
        // The signed content, not the signature bytes, is the replay key (ECDSA signatures are malleable).
        first = await ctx.nonceStore.remember(`${key.thumbprint}:c:${createHash('sha256').update(parsed.signingString).digest('base64url')}`, Math.max(1000, until - nowMs));
      } catch (cause) {
        throw new UnavailableError('replay_store_unavailable', `replay store failed, refusing the request: ${(cause as Error).message}`, { cause });
      }
      if (!first) throw fail('replayed', 'this exact signature was already used: sign each request anew', keyId);
    }
    return {
      verified: true,
      scheme: 'cavage',
      id: key.agent,
      keyId,
      thumbprint: key.thumbprint,
      labels: key.labels,
      created: Math.floor(createdAt / 1000),
      ...(parsed.params.expires === undefined ? {} : { expires: Number(parsed.params.expires) }),
      covered: [...parsed.params.headers],
    };
  };
}

function spki(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function mapParseError(error: unknown, fail: (reason: IdentityReason, message: string) => IdentityError): IdentityError {
  const name = (error as Error)?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (name === 'MissingHeaderError') return fail(/was not a signed header/.test(message) ? 'coverage_insufficient' : /was not in the request/.test(message) ? 'signature_invalid' : 'signature_missing', message);
  if (name === 'InvalidParamsError') return fail('alg_mismatch', `${message} (accepted: see the cavage.algorithms option)`);
  if (name === 'ExpiredRequestError') return fail('signature_expired', message);
  return fail('signature_malformed', message);
}

/** When the signature was made: (created) if signed, else the signed Date header. */
function dateOf(request: RequestFacts, parsed: ParsedCavage): number {
  if (parsed.params.created !== undefined && parsed.params.headers.includes('(created)')) return Number(parsed.params.created) * 1000;
  const date = request.headers.date;
  return Date.parse(Array.isArray(date) ? (date[0] ?? '') : (date ?? ''));
}

function checkTimes(request: RequestFacts, parsed: ParsedCavage, nowMs: number, ctx: CavageContext, fail: (reason: IdentityReason, message: string) => IdentityError): void {
  const { created, expires } = parsed.params;
  for (const [name, value] of [['created', created], ['expires', expires]] as const) {
    if (value !== undefined && !/^\d{1,12}$/.test(String(value))) throw fail('signature_malformed', `${name} must be an integer number of seconds`);
  }
  const date = request.headers.date;
  const times: [string, number][] = [['Date', Date.parse(Array.isArray(date) ? (date[0] ?? '') : (date ?? ''))]];
  if (created !== undefined) times.push(['(created)', Number(created) * 1000]);
  for (const [name, at] of times) {
    if (Number.isNaN(at)) throw fail('signature_malformed', 'the signed Date header is not an HTTP date');
    if (at > nowMs + ctx.clockSkewMs) throw fail('signature_not_yet_valid', `${name} is ${Math.round((at - nowMs) / 1000)} s in the future (allowed skew ${ctx.clockSkewMs / 1000} s): check the signer's clock`);
    if (nowMs > at + ctx.maxAgeMs + ctx.clockSkewMs) throw fail('signature_expired', `${name} is ${Math.round((nowMs - at) / 1000)} s old, older than the ${ctx.maxAgeMs / 1000} s allowed`);
  }
  if (expires !== undefined && nowMs > Number(expires) * 1000 + ctx.clockSkewMs) throw fail('signature_expired', 'the signature has expired');
}
