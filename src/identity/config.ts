import { MemoryNonceStore } from './memory-nonce-store.js';
import { invalid, positiveNumber, rejectUnknownKeys } from './options-check.js';
import type { RegistrySource } from './registry.js';
import type { CavageOptions, IdentityOptions, NonceStore, WebBotAuthOptions } from './types.js';
import type { Jwks } from './jwk.js';

const WHERE = 'createVerifier';
const DERIVED = ['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query'];
export const DEFAULT_REQUIRED_COMPONENTS: readonly string[] = ['@method', '@authority', '@path', '@query'];

/** What one profile (plain RFC 9421, Web Bot Auth) demands of a signature. */
export interface SignaturePolicy {
  readonly requiredComponents: readonly string[];
  readonly tag: string | undefined;
  readonly requireExpires: boolean;
  readonly requireNonce: boolean;
}

/** IdentityOptions resolved once: defaults applied, everything checked. */
export interface Configuration {
  readonly registryFiles: readonly string[];
  readonly registrySources: readonly RegistrySource[];
  readonly revoked: readonly string[];
  readonly production: boolean;
  readonly rfc9421: SignaturePolicy;
  readonly labels: 'any' | readonly string[];
  readonly clockSkewMs: number;
  readonly maxAgeMs: number;
  readonly nonceStore: NonceStore | undefined;
  /** True when the store is our default one: close() closes only what we created (a given store may be shared). */
  readonly ownsNonceStore: boolean;
  readonly maxHeaderBytes: number;
  readonly maxSignatures: number;
  readonly now: () => number;
  readonly webBotAuth: WebBotAuthConfig | undefined;
  readonly cavage: CavageConfig | undefined;
}

export interface CavageConfig {
  readonly requiredHeaders: readonly string[];
  readonly algorithms: readonly string[];
}

const CAVAGE_ALGORITHMS = ['ed25519-sha512', 'ecdsa-sha256', 'rsa-sha256', 'rsa-sha512', 'hmac-sha256'];

function resolveCavage(options: CavageOptions | false | undefined): CavageConfig | undefined {
  const where = 'createVerifier cavage';
  if (options === undefined || options === false) return undefined;
  if (typeof options !== 'object' || options === null) throw invalid(where, 'cavage must be an options object, or false');
  rejectUnknownKeys(where, options, ['requiredHeaders', 'algorithms']);
  const requiredHeaders = stringList('requiredHeaders', options.requiredHeaders ?? ['(request-target)', 'host', 'date'], where).map((h) => h.toLowerCase());
  for (const h of ['(request-target)', 'host', 'date']) {
    if (!requiredHeaders.includes(h)) throw invalid(where, `requiredHeaders must include ${h}: without it a signature can be replayed onto another request`);
  }
  const algorithms = stringList('algorithms', options.algorithms ?? CAVAGE_ALGORITHMS.slice(0, 4), where).map((a) => a.toLowerCase());
  for (const a of algorithms) if (!CAVAGE_ALGORITHMS.includes(a)) throw invalid(where, `algorithms: "${a}" is not supported (use ${CAVAGE_ALGORITHMS.join(', ')})`);
  return { requiredHeaders, algorithms };
}

export interface WebBotAuthConfig {
  readonly policy: SignaturePolicy;
  readonly trustedDirectories: ReadonlySet<string> | undefined;
  readonly allow: ReadonlySet<string>;
  readonly allowHttp: boolean;
  readonly requireDirectorySignature: boolean;
  readonly fetchTimeoutMs: number;
  readonly maxDirectoryBytes: number;
  readonly maxKeys: number;
  readonly defaultTtlMs: number;
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  readonly maxStaleMs: number;
  readonly maxDirectories: number;
  readonly maxConcurrentFetches: number;
}

const KNOWN: readonly (keyof IdentityOptions)[] = [
  'jwksFiles', 'jwks', 'sharedSecrets', 'revokedThumbprints', 'production', 'requiredComponents', 'labels', 'tag',
  'requireExpires', 'requireNonce', 'clockSkewMs', 'maxAgeMs', 'nonceStore', 'maxHeaderBytes', 'maxSignatures', 'now', 'webBotAuth', 'cavage',
];

const WBA_WHERE = 'createVerifier webBotAuth';
const WBA_KNOWN: readonly (keyof WebBotAuthOptions)[] = [
  'requiredComponents', 'requireNonce', 'trustedDirectories', 'allowAddresses', 'allowHttp', 'requireDirectorySignature',
  'fetchTimeoutMs', 'maxDirectoryBytes', 'maxKeys', 'defaultTtlMs', 'minTtlMs', 'maxTtlMs', 'negativeTtlMs', 'maxStaleMs', 'maxDirectories', 'maxConcurrentFetches',
];

function resolveWebBotAuth(options: WebBotAuthOptions | false | undefined, base: SignaturePolicy): WebBotAuthConfig | undefined {
  if (options === undefined || options === false) return undefined;
  if (typeof options !== 'object' || options === null) throw invalid(WBA_WHERE, 'webBotAuth must be an options object, or false');
  rejectUnknownKeys(WBA_WHERE, options, WBA_KNOWN);
  // The draft fixes tag and requires expires; the rest follows the gateway's own policy unless overridden.
  const policy = resolvePolicy({ ...options, tag: 'web-bot-auth', requireExpires: true }, WBA_WHERE, { requiredComponents: base.requiredComponents });
  const trusted = options.trustedDirectories === undefined ? undefined : stringList('trustedDirectories', options.trustedDirectories, WBA_WHERE).map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      throw invalid(WBA_WHERE, `trustedDirectories: "${o}" is not an origin like https://bots.example`);
    }
  });
  const negativeTtlMs = positiveNumber(WBA_WHERE, 'negativeTtlMs', options.negativeTtlMs, 60_000);
  if (negativeTtlMs > 300_000) throw invalid(WBA_WHERE, 'negativeTtlMs must be at most 300000 (the draft caps negative caching at five minutes)');
  const minTtlMs = positiveNumber(WBA_WHERE, 'minTtlMs', options.minTtlMs, 60_000, { allowZero: true });
  const maxTtlMs = positiveNumber(WBA_WHERE, 'maxTtlMs', options.maxTtlMs, 86_400_000);
  if (minTtlMs > maxTtlMs) throw invalid(WBA_WHERE, 'minTtlMs must not exceed maxTtlMs');
  return {
    policy,
    trustedDirectories: trusted === undefined ? undefined : new Set(trusted),
    allow: new Set(stringList('allowAddresses', options.allowAddresses ?? [], WBA_WHERE)),
    allowHttp: bool('allowHttp', options.allowHttp, false, WBA_WHERE),
    requireDirectorySignature: bool('requireDirectorySignature', options.requireDirectorySignature, true, WBA_WHERE),
    fetchTimeoutMs: positiveNumber(WBA_WHERE, 'fetchTimeoutMs', options.fetchTimeoutMs, 3000),
    maxDirectoryBytes: positiveNumber(WBA_WHERE, 'maxDirectoryBytes', options.maxDirectoryBytes, 65_536),
    maxKeys: positiveNumber(WBA_WHERE, 'maxKeys', options.maxKeys, 32),
    defaultTtlMs: positiveNumber(WBA_WHERE, 'defaultTtlMs', options.defaultTtlMs, 3_600_000),
    minTtlMs,
    maxTtlMs,
    negativeTtlMs,
    maxStaleMs: positiveNumber(WBA_WHERE, 'maxStaleMs', options.maxStaleMs, 3_600_000, { allowZero: true }),
    maxDirectories: positiveNumber(WBA_WHERE, 'maxDirectories', options.maxDirectories, 1024),
    maxConcurrentFetches: positiveNumber(WBA_WHERE, 'maxConcurrentFetches', options.maxConcurrentFetches, 256),
  };
}

export function resolveOptions(options: Readonly<IdentityOptions>): Configuration {
  if (typeof options !== 'object' || options === null) throw invalid(WHERE, 'options must be an object');
  rejectUnknownKeys(WHERE, options, KNOWN);
  const registryFiles = stringList('jwksFiles', options.jwksFiles ?? []);
  const inline = options.jwks === undefined ? [] : Array.isArray(options.jwks) ? options.jwks : [options.jwks];
  const registrySources: RegistrySource[] = inline.map((jwks, i) => ({ jwks: jwks as unknown as Jwks, source: `jwks[${i}]` }));
  if (options.sharedSecrets !== undefined) {
    if (!Array.isArray(options.sharedSecrets)) throw invalid(WHERE, 'sharedSecrets must be an array of oct JWKs');
    registrySources.push({ jwks: { keys: options.sharedSecrets } as unknown as Jwks, source: 'sharedSecrets', sharedSecrets: true });
  }
  if (registryFiles.length === 0 && registrySources.length === 0 && (options.webBotAuth === undefined || options.webBotAuth === false)) {
    throw invalid(WHERE, 'no key registry: pass jwksFiles (paths to JWKS files) or jwks (JWKS objects), or enable webBotAuth');
  }
  const ownsNonceStore = options.nonceStore === undefined;
  const nonceStore = options.nonceStore === false ? undefined : (options.nonceStore ?? new MemoryNonceStore({ now: options.now ?? Date.now }));
  if (nonceStore !== undefined && typeof nonceStore.remember !== 'function') throw invalid(WHERE, 'nonceStore must implement remember(key, ttlMs), or be false to turn replay protection off');
  if (options.now !== undefined && typeof options.now !== 'function') throw invalid(WHERE, 'now must be a function returning milliseconds since the epoch');
  const rfc9421 = resolvePolicy(options, WHERE);
  return {
    registryFiles,
    registrySources,
    revoked: stringList('revokedThumbprints', options.revokedThumbprints ?? []),
    production: bool('production', options.production, false),
    rfc9421,
    webBotAuth: resolveWebBotAuth(options.webBotAuth, rfc9421),
    cavage: resolveCavage(options.cavage),
    labels: resolveLabels(options.labels),
    clockSkewMs: positiveNumber(WHERE, 'clockSkewMs', options.clockSkewMs, 30_000, { allowZero: true }),
    maxAgeMs: positiveNumber(WHERE, 'maxAgeMs', options.maxAgeMs, 300_000),
    nonceStore,
    ownsNonceStore,
    maxHeaderBytes: positiveNumber(WHERE, 'maxHeaderBytes', options.maxHeaderBytes, 8192),
    maxSignatures: positiveNumber(WHERE, 'maxSignatures', options.maxSignatures, 8),
    now: options.now ?? Date.now,
  };
}

function resolveLabels(labels: unknown): 'any' | readonly string[] {
  if (labels === undefined || labels === 'any') return 'any';
  const list = stringList('labels', labels);
  if (list.length === 0) throw invalid(WHERE, 'labels: give at least one label, or "any"');
  return list;
}

export function resolvePolicy(options: { requiredComponents?: readonly string[]; tag?: string; requireExpires?: boolean; requireNonce?: boolean }, where: string, defaults: Partial<SignaturePolicy> = {}): SignaturePolicy {
  const requiredComponents = stringList('requiredComponents', options.requiredComponents ?? defaults.requiredComponents ?? DEFAULT_REQUIRED_COMPONENTS, where);
  for (const name of requiredComponents) {
    if (name.startsWith('@') ? !DERIVED.includes(name) : !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      throw invalid(where, `requiredComponents: "${name}" is not a request component (use ${DERIVED.join(', ')} or a lower-case field name)`);
    }
  }
  const tag = options.tag ?? defaults.tag;
  if (tag !== undefined && (typeof tag !== 'string' || tag === '')) throw invalid(where, 'tag must be a non-empty string');
  return {
    requiredComponents,
    tag,
    requireExpires: bool('requireExpires', options.requireExpires, defaults.requireExpires ?? false, where),
    requireNonce: bool('requireNonce', options.requireNonce, defaults.requireNonce ?? false, where),
  };
}

function stringList(name: string, value: unknown, where = WHERE): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) throw invalid(where, `${name} must be an array of non-empty strings`);
  return [...(value as string[])];
}

function bool(name: string, value: unknown, fallback: boolean, where = WHERE): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(where, `${name} must be true or false`);
  return value;
}
