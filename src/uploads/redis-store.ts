import { Redis } from 'ioredis';
import { UnavailableError } from '../errors.js';
import type { UploadRecord, UploadStore } from './types.js';

/**
 * Upload records shared by several gateway instances: the record (provenance, size, hash) as JSON under
 * `<prefix><id>`, expiring after `ttlMs` — longer than any policy's attachment window. The bytes themselves stay with
 * the service that stores files; the gateway only needs the facts.
 */
export class RedisUploadStore implements UploadStore {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  private constructor(client: Redis, prefix: string, ttlMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#ttlMs = ttlMs;
  }

  static async connect(url: string, options: { prefix?: string; ttlMs?: number } = {}): Promise<RedisUploadStore> {
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000, connectTimeout: 5000 });
    client.on('error', () => undefined); // failures surface through the commands
    try {
      await client.connect();
    } catch (cause) {
      throw new UnavailableError('uploads_unavailable', 'Redis for upload records is unreachable: check TOOLGATE_REDIS_URL.', { cause });
    }
    return new RedisUploadStore(client, options.prefix ?? 'toolgate:upload:', options.ttlMs ?? 7 * 24 * 3600_000);
  }

  async put(record: UploadRecord): Promise<void> {
    try {
      await this.#client.set(`${this.#prefix}${record.id}`, JSON.stringify(record), 'PX', this.#ttlMs);
    } catch (cause) {
      throw new UnavailableError('uploads_unavailable', 'The upload could not be recorded in Redis; retry, and check TOOLGATE_REDIS_URL.', { cause });
    }
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    if (!/^upl_[0-9a-f-]{36}$/.test(id)) return undefined; // never turn agent-chosen strings into arbitrary keys
    let raw: string | null;
    try {
      raw = await this.#client.get(`${this.#prefix}${id}`);
    } catch (cause) {
      throw new UnavailableError('uploads_unavailable', 'Upload records in Redis are unreachable; nothing was executed. Check TOOLGATE_REDIS_URL.', { cause });
    }
    return raw ? (JSON.parse(raw) as UploadRecord) : undefined;
  }

  async close(): Promise<void> {
    await this.#client.quit().catch(() => this.#client.disconnect());
  }
}
