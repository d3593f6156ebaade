import type { WebBotAuthConfig } from './config.js';
import { DirectoryCache, DIRECTORY_PATH } from './directory.js';
import { DirectoryFetchError } from './directory-fetch.js';
import { RFC9421_TEST_KEY_THUMBPRINTS } from './rfc-test-keys.js';
import { signatureAgentClaim, type AgentClaim } from './signature-agent.js';
import type { SignatureCandidate } from './signature-fields.js';
import { IdentityError } from './types.js';
import type { Profile, ResolvedKey } from './verify-signatures.js';

export interface WebBotAuthDeps {
  readonly config: WebBotAuthConfig;
  readonly cache: DirectoryCache;
  readonly isRevoked: (thumbprint: string) => boolean;
  readonly production: boolean;
  readonly maxHeaderBytes: number;
}

export function createDirectoryCache(config: WebBotAuthConfig, clockSkewMs: number, now: () => number): DirectoryCache {
  return new DirectoryCache({
    fetch: { timeoutMs: config.fetchTimeoutMs, maxBytes: config.maxDirectoryBytes, allow: config.allow, allowHttp: config.allowHttp },
    maxKeys: config.maxKeys,
    requireSignature: config.requireDirectorySignature,
    defaultTtlMs: config.defaultTtlMs,
    minTtlMs: config.minTtlMs,
    maxTtlMs: config.maxTtlMs,
    negativeTtlMs: config.negativeTtlMs,
    maxStaleMs: config.maxStaleMs,
    maxDirectories: config.maxDirectories,
    maxConcurrentFetches: config.maxConcurrentFetches,
    clockSkewMs,
    now,
  });
}

/**
 * The Web Bot Auth profile for one request: the signature must cover its own Signature-Agent member, and its key is
 * looked up by (directory, keyid) — never keyid alone, or one directory's key could vouch for another's name.
 */
export function webBotAuthProfile(deps: WebBotAuthDeps, headers: Readonly<Record<string, string | string[] | undefined>>, nowMs: number): Profile {
  const claims = new WeakMap<SignatureCandidate, AgentClaim>();
  const { config } = deps;
  return {
    scheme: 'web-bot-auth',
    policy: config.policy,
    precheck(candidate) {
      const claim = signatureAgentClaim(headers, candidate.label, deps.maxHeaderBytes, config.allowHttp);
      if (!candidate.components.some((c) => claim.coveredBy.includes(c.id))) {
        throw new IdentityError('coverage_insufficient', `signature ${candidate.label}: does not cover its Signature-Agent (${claim.coveredBy[0]})`, { scheme: 'web-bot-auth', ...keyIdOf(candidate) });
      }
      claims.set(candidate, claim);
    },
    async resolveKey(candidate): Promise<ResolvedKey> {
      const claim = claims.get(candidate);
      const keyId = candidate.params.keyid ?? '';
      const fail = (reason: 'key_unknown' | 'key_revoked' | 'directory_unavailable', message: string, cause?: unknown) =>
        new IdentityError(reason, `signature ${candidate.label}: ${message}`, { scheme: 'web-bot-auth', keyId }, cause === undefined ? undefined : { cause });
      if (claim === undefined) throw fail('key_unknown', 'no Signature-Agent claim');
      if (config.trustedDirectories !== undefined && !config.trustedDirectories.has(claim.origin)) throw fail('key_unknown', `directory ${claim.origin} is not among the trusted directories`);
      const url = new URL(DIRECTORY_PATH, claim.origin);
      let directory;
      try {
        directory = await deps.cache.get(url);
      } catch (error) {
        if (error instanceof DirectoryFetchError) throw fail('directory_unavailable', `key directory unavailable: ${error.message}`, error);
        throw error;
      }
      const key = directory.keys.get(keyId);
      if (key === undefined) throw fail('key_unknown', `keyid ${keyId.slice(0, 80)} is not a (signed) key of ${directory.url}: Web Bot Auth keyids are RFC 7638 thumbprints`);
      if (deps.isRevoked(key.thumbprint) || (deps.production && RFC9421_TEST_KEY_THUMBPRINTS.has(key.thumbprint))) {
        throw fail('key_revoked', `key ${key.thumbprint} is revoked${RFC9421_TEST_KEY_THUMBPRINTS.has(key.thumbprint) ? ' (a published RFC 9421 test key)' : ''}`);
      }
      const now = nowMs / 1000;
      if (key.nbf !== undefined && now < key.nbf) throw fail('key_unknown', `key ${key.thumbprint} is not valid yet`);
      if (key.exp !== undefined && now >= key.exp) throw fail('key_revoked', `key ${key.thumbprint} has expired`);
      return { agent: claim.origin, thumbprint: key.thumbprint, alg: key.alg, check: key.check, labels: {}, signatureAgent: claim.value, replayScope: `${directory.url}#${key.thumbprint}` };
    },
  };
}

function keyIdOf(candidate: SignatureCandidate): { keyId?: string } {
  return candidate.params.keyid === undefined ? {} : { keyId: candidate.params.keyid };
}
