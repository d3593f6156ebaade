import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { readBundleFiles } from './bundle.js';
import { DEFAULT_ARCHIVE_LIMITS, readTarball } from './tarball.js';

/** One fetch of a bundle: its files, and whether they are the whole bundle (an archive). */
export interface BundleSnapshot {
  readonly files: Map<string, Buffer>;
  readonly complete: boolean;
}

/** Where bundles come from. `fetch` resolves null when nothing changed since the last fetch that returned files. */
export interface BundleSource {
  /** For messages and /readyz: the path or URL (never the token). */
  readonly where: string;
  fetch(): Promise<BundleSnapshot | null>;
}

/** A directory or bundle.tar.gz on disk; a poll sees a change when the files' bytes changed. */
export class FileBundleSource implements BundleSource {
  readonly where: string;
  #fingerprint = '';

  constructor(path: string) {
    this.where = path;
  }

  async fetch(): Promise<BundleSnapshot | null> {
    const { files, archive } = await readBundleFiles(this.where);
    const hash = createHash('sha256');
    for (const [name, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(`${name}\0${bytes.length}\0`).update(bytes);
    const fingerprint = hash.digest('hex');
    if (fingerprint === this.#fingerprint) return null;
    this.#fingerprint = fingerprint;
    return { files, complete: archive };
  }
}

export interface HttpSourceOptions {
  /** The bundle's URL (OPA: the service URL joined with the bundle's resource). */
  readonly url: string;
  /** File holding a bearer token, read on every request so a rotated token is picked up. */
  readonly tokenFile?: string;
  /** Time one download may take, headers and body. Default 10,000 ms. */
  readonly timeoutMs?: number;
  /** Largest download, bytes. Default 64 MiB. */
  readonly maxBytes?: number;
}

/**
 * A bundle server, fetched the way OPA's bundle plugin fetches: `If-None-Match` with the last ETag, 304 means
 * unchanged, 200 carries a bundle.tar.gz. The ETag is kept only once a download was read whole.
 */
export class HttpBundleSource implements BundleSource {
  readonly where: string;
  readonly #options: HttpSourceOptions;
  #etag: string | undefined;

  constructor(options: HttpSourceOptions) {
    this.#options = options;
    const shown = new URL(options.url);
    shown.username = '';
    shown.password = '';
    this.where = shown.toString();
  }

  async fetch(): Promise<BundleSnapshot | null> {
    const headers: Record<string, string> = { accept: 'application/gzip, application/octet-stream' };
    if (this.#etag) headers['if-none-match'] = this.#etag;
    if (this.#options.tokenFile) headers.authorization = `Bearer ${await this.#token(this.#options.tokenFile)}`;
    const timeoutMs = this.#options.timeoutMs ?? 10_000;
    let response: Response;
    let body: Buffer;
    try {
      response = await fetch(this.#options.url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      if (response.status === 304) return null;
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new ConfigError('policy_bundle_download_failed', `The bundle server answered ${response.status} for ${this.where}: check the URL and, for 401/403, the bearer token file.`);
      }
      body = await readBounded(response, this.#options.maxBytes ?? 64 * 1024 * 1024, this.where);
    } catch (cause) {
      if (cause instanceof ConfigError) throw cause;
      const timedOut = (cause as { name?: string }).name === 'TimeoutError';
      throw new ConfigError('policy_bundle_download_failed', timedOut
        ? `Downloading the policy bundle from ${this.where} took longer than ${timeoutMs} ms; the running policy stays. Check the bundle server.`
        : `Cannot download the policy bundle from ${this.where} (${cause instanceof Error ? cause.message : String(cause)}); the running policy stays. Check the bundle server.`, { cause });
    }
    const files = await readTarball(body, this.where, DEFAULT_ARCHIVE_LIMITS);
    this.#etag = response.headers.get('etag') ?? undefined;
    return { files, complete: true };
  }

  async #token(path: string): Promise<string> {
    try {
      const token = (await readFile(path, 'utf8')).trim();
      if (token === '' || /[\r\n]/.test(token)) throw new Error('empty or more than one line');
      return token;
    } catch (cause) {
      throw new ConfigError('policy_bundle_token_unreadable', `Cannot read the bundle server's bearer token from ${path} (${cause instanceof Error ? cause.message : String(cause)}): write the token, one line, to that file.`, { cause });
    }
  }
}

/** Reads a response body, refusing it past `max` bytes (a Content-Length that says so is refused before reading). */
async function readBounded(response: Response, max: number, where: string): Promise<Buffer> {
  const tooLarge = () => new ConfigError('policy_bundle_too_large', `The bundle from ${where} is larger than ${max} bytes: serve a smaller bundle.`);
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The source a configured `policy.bundle` names: an http(s) URL, else a directory or bundle.tar.gz path. */
export function bundleSource(bundle: string, http: Omit<HttpSourceOptions, 'url'> = {}): BundleSource {
  return /^https?:\/\//i.test(bundle) ? new HttpBundleSource({ ...http, url: bundle }) : new FileBundleSource(bundle);
}
