import { Redis } from 'ioredis';
import type { NonceStore } from './types.js';

/** Sends one Redis command and resolves its reply: lets callers bring any client (rate-limit-redis's pattern). */
export type SendCommand = (...args: string[]) => Promise<unknown>;

export interface RedisNonceStoreOptions {
  readonly sendCommand: SendCommand;
  /** Key prefix. Default "toolgate:nonce:". */
  readonly prefix?: string;
  /** Called by close(), e.g. to quit a client the store owns. */
  readonly onClose?: () => Promise<void>;
}

/**
 * Replay store shared by every gateway instance. `SET key 1 NX PX ttl` is atomic in Redis: of any number of
 * concurrent callers across instances, exactly one gets "OK".
 */
export class RedisNonceStore implements NonceStore {
  readonly #send: SendCommand;
  readonly #prefix: string;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(options: RedisNonceStoreOptions) {
    if (typeof options?.sendCommand !== 'function') throw new TypeError('RedisNonceStore needs sendCommand(...args), e.g. (...a) => client.call(...a)');
    this.#send = options.sendCommand;
    this.#prefix = options.prefix ?? 'toolgate:nonce:';
    this.#onClose = options.onClose;
  }

  /**
   * Connects an ioredis client the store owns. Commands fail fast while Redis is unreachable (no offline queue,
   * one retry), so the verifier fails closed instead of hanging requests.
   */
  static async connect(url: string, options: { prefix?: string; commandTimeoutMs?: number } = {}): Promise<RedisNonceStore> {
    const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: options.commandTimeoutMs ?? 2000, connectTimeout: 5000 });
    // An unhandled 'error' event would crash the process; failures surface through the commands instead.
    client.on('error', () => undefined);
    await client.connect();
    return new RedisNonceStore({
      sendCommand: (...args) => client.call(args[0] ?? '', ...args.slice(1)),
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      onClose: async () => {
        await client.quit().catch(() => client.disconnect());
      },
    });
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#send('SET', `${this.#prefix}${key}`, '1', 'NX', 'PX', String(Math.max(1, Math.ceil(ttlMs))));
    return reply === 'OK';
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
