import { UnavailableError } from '../errors.js';
import { connectRedis, requireSendCommand, type RedisStoreOptions, type SendCommand } from '../redis/index.js';
import { isUploadId, parseUploadRecord } from './record.js';
import type { UploadRecord, UploadStore } from './types.js';

export interface RedisUploadStoreOptions extends RedisStoreOptions {
  /** Key prefix. Default "toolgate:upload:" (records under `toolgate:upload:<id>`). */
  readonly prefix?: string;
  /** How long a record is kept: longer than any policy's attachment window. Default 7 days. */
  readonly ttlMs?: number;
}

/**
 * Upload records shared by several gateway instances: the record (provenance, size, hash) as JSON under
 * `<prefix><id>`, expiring after `ttlMs`. The bytes themselves stay with the service that stores files; the
 * gateway only needs the facts.
 */
export class RedisUploadStore implements UploadStore {
  readonly #send: SendCommand;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(options: Readonly<RedisUploadStoreOptions>) {
    this.#send = requireSendCommand(options, 'RedisUploadStore');
    this.#prefix = options.prefix ?? 'toolgate:upload:';
    this.#ttlMs = options.ttlMs ?? 7 * 24 * 3600_000;
    if (!Number.isSafeInteger(this.#ttlMs) || this.#ttlMs < 1) throw new TypeError('RedisUploadStore ttlMs must be a positive integer of milliseconds');
    this.#onClose = options.onClose;
  }

  /**
   * Connects an ioredis client the store owns (fails fast while Redis is unreachable, like the other stores).
   * Rejects with UnavailableError('uploads_unavailable') when the first connection fails.
   */
  static async connect(url: string, options: { prefix?: string; ttlMs?: number; commandTimeoutMs?: number } = {}): Promise<RedisUploadStore> {
    const connection = await connectRedis(url, { reason: 'uploads_unavailable', purpose: 'upload records', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisUploadStore({ ...options, ...connection });
  }

  /** The bytes stay with the service that stores files: only the record is kept. */
  async put(record: UploadRecord, _bytes?: Buffer): Promise<void> {
    if (!isUploadId(record.id)) throw new TypeError(`upload id "${String(record.id).slice(0, 40)}" must be upl_<uuid> (newUploadId())`);
    try {
      await this.#send('SET', `${this.#prefix}${record.id}`, JSON.stringify(record), 'PX', String(this.#ttlMs));
    } catch (cause) {
      throw new UnavailableError('uploads_unavailable', 'The upload could not be recorded in Redis; retry, and check that Redis at TOOLGATE_REDIS_URL is up.', { cause });
    }
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    // Never turn agent-chosen strings into arbitrary keys.
    if (!isUploadId(id)) return undefined;
    let raw: unknown;
    try {
      raw = await this.#send('GET', `${this.#prefix}${id}`);
    } catch (cause) {
      throw new UnavailableError('uploads_unavailable', 'Upload records in Redis are unreachable; nothing was executed. Check that Redis at TOOLGATE_REDIS_URL is up, then retry.', { cause });
    }
    if (typeof raw !== 'string') return undefined;
    const record = parseUploadRecord(raw);
    if (!record || record.id !== id) {
      throw new UnavailableError('uploads_unavailable', `Redis holds something other than an upload record under ${this.#prefix}${id}: another program may be writing under the same key prefix; give toolgate its own prefix.`);
    }
    return record;
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
