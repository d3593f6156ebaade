import { createHash } from 'node:crypto';
import { connectRedis, evalScript, requireSendCommand, type RedisStoreOptions, type SendCommand } from '../redis/index.js';
import { NonceStoreFullError } from './memory-nonce-store.js';
import { REMEMBER } from './nonce-script.js';
import type { NonceStore } from './types.js';

export interface RedisNonceStoreOptions extends RedisStoreOptions {
  /** Key prefix. Default "toolgate:nonce:". The store uses one key, `<prefix>index`. */
  readonly prefix?: string;
  /**
   * Live entries kept at most; past it remember() refuses (fails closed). Each entry is a 43-byte hash plus the
   * sorted set's overhead, so this bounds the store's bytes too. Default 1,000,000.
   */
  readonly maxEntries?: number;
}

/**
 * Replay store shared by every gateway instance. The REMEMBER script is atomic in Redis: of any number of concurrent
 * callers across instances, exactly one sees "first".
 */
export class RedisNonceStore implements NonceStore {
  readonly #send: SendCommand;
  readonly #index: string;
  readonly #maxEntries: number;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(options: RedisNonceStoreOptions) {
    this.#send = requireSendCommand(options, 'RedisNonceStore');
    this.#index = `${options.prefix ?? 'toolgate:nonce:'}index`;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) throw new TypeError('RedisNonceStore maxEntries must be a positive integer');
    this.#onClose = options.onClose;
  }

  /**
   * Connects an ioredis client the store owns. Commands fail fast while Redis is unreachable (no offline queue,
   * one retry), so the verifier fails closed instead of hanging requests. Rejects with
   * UnavailableError('replay_store_unavailable') when the first connection fails.
   */
  static async connect(url: string, options: { prefix?: string; commandTimeoutMs?: number; maxEntries?: number } = {}): Promise<RedisNonceStore> {
    const connection = await connectRedis(url, { reason: 'replay_store_unavailable', purpose: 'replay nonces', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisNonceStore({ ...options, ...connection });
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const member = createHash('sha256').update(key).digest('base64url');
    const reply = await evalScript(this.#send, REMEMBER, [this.#index], [member, String(Math.max(1, Math.ceil(ttlMs))), String(this.#maxEntries)]);
    if (Number(reply) === -1) throw new NonceStoreFullError(`replay store ${this.#index} holds ${this.#maxEntries} live nonces: raise maxEntries`);
    return Number(reply) === 1;
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
