import { algorithmForJwk, isAlgorithm, signatureCheck, type Algorithm, type SignatureCheck } from './algorithms.js';
import { derivedValue, fieldValueOf, type MessageView } from './components.js';
import { checkContentDigest } from './content-digest.js';
import type { IncomingHttpHeaders } from 'node:http';
import { DirectoryFetchError, fetchDirectory, type FetchedResponse, type FetchLimits } from './directory-fetch.js';
import { hasPrivateMembers, importPublicKey, jwkThumbprint, type Jwk } from './jwk.js';
import { signatureBaseBytes, signatureBaseFrom } from './signature-base.js';
import { isMalformed, parseSignatureFields, type SignatureCandidate } from './signature-fields.js';

export const DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';
export const DIRECTORY_MEDIA_TYPE = 'application/http-message-signatures-directory+json';
export const DIRECTORY_TAG = 'http-message-signatures-directory';

export interface DirectoryKey {
  readonly thumbprint: string;
  readonly alg: Algorithm;
  readonly check: SignatureCheck;
  readonly nbf: number | undefined;
  readonly exp: number | undefined;
}

export interface Directory {
  /** The identifier: the well-known URL that was fetched. */
  readonly url: string;
  readonly keys: ReadonlyMap<string, DirectoryKey>;
}

export interface DirectoryCacheOptions {
  readonly fetch: FetchLimits;
  readonly maxKeys: number;
  /** Only keys that sign the directory response (proof of possession) are used. */
  readonly requireSignature: boolean;
  readonly defaultTtlMs: number;
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  /** How long a directory that cannot be refreshed keeps serving its last good copy. */
  readonly maxStaleMs: number;
  readonly maxDirectories: number;
  /**
   * Fetches in flight at once, all origins together; beyond it a lookup of a new origin fails fast instead of
   * queueing. Each origin has at most one fetch in flight (lookups of it share that one), so a slow directory holds one
   * slot whatever the number of requests naming it; this cap only bounds sockets and buffers.
   */
  readonly maxConcurrentFetches: number;
  readonly clockSkewMs: number;
  readonly now: () => number;
}

interface Entry {
  readonly directory: Directory | undefined;
  readonly error: string | undefined;
  /** Fresh until then; after it, the next lookup refetches. */
  readonly refreshAt: number;
  /** A good copy is not served past this. */
  readonly goodUntil: number;
}

/**
 * Key directories by URL: fetched on first use, cached per Cache-Control or Expires (clamped), failures cached briefly
 * (negative caching), concurrent lookups of one URL share one fetch, and a failed refresh never evicts a good copy.
 */
export class DirectoryCache {
  readonly #options: DirectoryCacheOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Entry>>();

  constructor(options: DirectoryCacheOptions) {
    this.#options = options;
  }

  /** The directory at `url`, or a DirectoryFetchError explaining why there is none. */
  async get(url: URL): Promise<Directory> {
    const key = url.href;
    const now = this.#options.now();
    let entry = this.#entries.get(key);
    if (entry === undefined || now >= entry.refreshAt) {
      let pending = this.#inflight.get(key);
      if (pending === undefined) {
        // Signature-Agent is chosen by the (unauthenticated) caller: bound the sockets callers can open at once.
        if (this.#inflight.size >= this.#options.maxConcurrentFetches) throw new DirectoryFetchError(`${this.#inflight.size} directory fetches (of as many origins) already in flight, the most allowed (webBotAuth.maxConcurrentFetches): retry shortly`);
        pending = this.#refresh(url, entry).finally(() => this.#inflight.delete(key));
        this.#inflight.set(key, pending);
      }
      entry = await pending;
    }
    if (entry.directory !== undefined && now < entry.goodUntil) return entry.directory;
    throw new DirectoryFetchError(entry.error ?? `${key}: no usable directory`);
  }

  async #refresh(url: URL, previous: Entry | undefined): Promise<Entry> {
    const o = this.#options;
    let entry: Entry;
    try {
      const response = await fetchDirectory(url, DIRECTORY_MEDIA_TYPE, o.fetch);
      const directory = await readDirectory(url, response, o);
      const now = o.now();
      const ttl = Math.min(o.maxTtlMs, Math.max(o.minTtlMs, freshnessMs(response.headers, now, o.defaultTtlMs)));
      entry = { directory, error: undefined, refreshAt: now + ttl, goodUntil: now + ttl + o.maxStaleMs };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const now = o.now();
      // A failed fetch is not evidence against the keys we hold (the draft's "discovery failure"): keep the good copy.
      entry = previous?.directory !== undefined && now < previous.goodUntil
        ? { ...previous, error: message, refreshAt: now + o.negativeTtlMs }
        : { directory: undefined, error: message, refreshAt: now + o.negativeTtlMs, goodUntil: 0 };
    }
    this.#store(url.href, entry);
    return entry;
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#options.maxDirectories) {
      // Oldest-inserted goes first: a flood of made-up Signature-Agent origins cannot grow the cache without bound.
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, entry);
  }
}

/**
 * How long a response stays fresh (RFC 9111 §4.2.1): no-store/no-cache → 0; else max-age; else Expires minus Date
 * (the server's clock on both sides, so our clock's skew does not matter; our clock when Date is absent); an
 * unparseable Expires means already expired (§5.3). Without either, the configured default.
 */
function freshnessMs(headers: IncomingHttpHeaders, now: number, fallback: number): number {
  const cacheControl = headers['cache-control'];
  if (cacheControl !== undefined) {
    if (/(^|,)\s*(no-store|no-cache)\s*(,|$)/i.test(cacheControl)) return 0;
    const maxAge = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
    if (maxAge?.[2] !== undefined) return Number(maxAge[2]) * 1000;
  }
  const expires = headers.expires;
  if (expires === undefined) return fallback;
  const expiresAt = Date.parse(expires);
  if (Number.isNaN(expiresAt)) return 0;
  const date = headers.date === undefined ? NaN : Date.parse(headers.date);
  return Math.max(0, expiresAt - (Number.isNaN(date) ? now : date));
}

async function readDirectory(url: URL, response: FetchedResponse, o: DirectoryCacheOptions): Promise<Directory> {
  const type = String(response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== DIRECTORY_MEDIA_TYPE) throw new DirectoryFetchError(`${url.href} is served as ${type || 'nothing'}, not ${DIRECTORY_MEDIA_TYPE}`);
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new DirectoryFetchError(`${url.href} is not JSON`);
  }
  const list = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new DirectoryFetchError(`${url.href} has no "keys" array`);
  if (list.length > o.maxKeys) throw new DirectoryFetchError(`${url.href} lists ${list.length} keys, more than the ${o.maxKeys} allowed`);
  const keys = new Map<string, DirectoryKey>();
  for (const jwk of list) {
    const key = directoryKey(jwk);
    if (key !== undefined) keys.set(key.thumbprint, key);
  }
  if (!o.requireSignature) return { url: url.href, keys };
  const proven = await provenKeys(url, response, keys, o);
  if (proven.size === 0) throw new DirectoryFetchError(`${url.href}: no key signs the directory response (tag "${DIRECTORY_TAG}", covering "@authority";req and content-digest)`);
  return { url: url.href, keys: new Map([...keys].filter(([thumbprint]) => proven.has(thumbprint))) };
}

/** A usable public key from a directory entry, or undefined for an entry the draft says to reject. */
function directoryKey(value: unknown): DirectoryKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const jwk = value as Jwk;
  if (jwk.kty === 'oct' || hasPrivateMembers(jwk)) return undefined;
  try {
    const alg = algorithmForJwk(jwk);
    if (!isAlgorithm(alg) || alg === 'hmac-sha256') return undefined;
    const thumbprint = jwkThumbprint(jwk);
    // The draft fixes kid to the thumbprint: a directory that labels a key otherwise is not trusted for it.
    if (jwk.kid !== undefined && jwk.kid !== thumbprint) return undefined;
    const nbf = typeof jwk.nbf === 'number' ? jwk.nbf : undefined;
    const exp = typeof jwk.exp === 'number' ? jwk.exp : undefined;
    return { thumbprint, alg, check: signatureCheck(importPublicKey(jwk), alg), nbf, exp };
  } catch {
    return undefined;
  }
}

/** Thumbprints of the keys that proved possession by signing this very response for this authority. */
async function provenKeys(url: URL, response: FetchedResponse, keys: ReadonlyMap<string, DirectoryKey>, o: DirectoryCacheOptions): Promise<Set<string>> {
  const proven = new Set<string>();
  const input = response.headers['signature-input'];
  const signature = response.headers.signature;
  if (typeof input !== 'string' || typeof signature !== 'string') return proven;
  let candidates;
  try {
    candidates = parseSignatureFields(input, signature, { maxHeaderBytes: o.fetch.maxBytes, maxSignatures: o.maxKeys, maxComponents: 16, response: true }, 'web-bot-auth');
  } catch {
    return proven;
  }
  const digest = checkContentDigest(stringHeader(response.headers['content-digest']), response.body);
  if (!digest.ok) return proven;
  const request: MessageView = { method: 'GET', scheme: url.protocol === 'https:' ? 'https' : 'http', authority: response.authority, target: url.pathname, headers: {} };
  const responseView: MessageView = { ...request, headers: response.headers as MessageView['headers'] };
  const now = o.now();
  for (const candidate of candidates) {
    if (isMalformed(candidate) || !acceptableProof(candidate, now, o.clockSkewMs)) continue;
    const key = keys.get(candidate.params.keyid ?? '');
    if (key === undefined) continue;
    let base: string;
    try {
      base = signatureBaseFrom((name, params) => {
        if (params.has('req')) return name.startsWith('@') ? derivedValue(request, name, params) : fieldValueOf(request, name, params);
        if (name === '@status') return String(response.status);
        return fieldValueOf(responseView, name, params);
      }, candidate.components.map((c) => c.id), candidate.signatureParams);
      signatureBaseBytes(base);
    } catch {
      // A base that cannot be built (absent field, odd identifier) proves nothing.
      continue;
    }
    if (await key.check(signatureBaseBytes(base), candidate.signature)) proven.add(key.thumbprint);
  }
  return proven;
}

function acceptableProof(c: SignatureCandidate, now: number, skewMs: number): boolean {
  const { created, expires, tag } = c.params;
  if (tag !== DIRECTORY_TAG || created === undefined || expires === undefined) return false;
  if (created * 1000 > now + skewMs || expires * 1000 + skewMs < now) return false;
  const ids = c.components.map((x) => x.id);
  return ids.includes('"@authority";req') && ids.includes('"content-digest"');
}

function stringHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
