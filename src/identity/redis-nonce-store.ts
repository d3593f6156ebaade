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
  /**
   * How long every signed request is refused after this store sees that Redis lost its data (an instance that knew
   * the store's epoch finds it gone or replaced): the longest a signature seen before the loss may still be accepted
   * (maxAgeMs + clockSkewMs of the verifier). Default 330,000 (the verifier's defaults).
   */
  readonly fenceMs?: number;
}

/** A Redis that lost the replay store's data: signed requests are refused until every signature it saw has expired. */
export class ReplayStoreFencedError extends Error {
  override readonly name = 'ReplayStoreFencedError';
}

/**
 * Replay store shared by every gateway instance. The REMEMBER script is atomic in Redis: of any number of concurrent
 * callers across instances, exactly one sees "first". It also fences a Redis that lost its data (nonce-script.ts).
 */
export class RedisNonceStore implements NonceStore {
  readonly #send: SendCommand;
  readonly #index: string;
  readonly #epochKey: string;
  readonly #maxEntries: number;
  readonly #fenceMs: number;
  readonly #onClose: (() => Promise<void>) | undefined;
  /** The epoch this instance last saw ("" before its first call). */
  #epoch = '';

  constructor(options: RedisNonceStoreOptions) {
    this.#send = requireSendCommand(options, 'RedisNonceStore');
    this.#index = `${options.prefix ?? 'toolgate:nonce:'}index`;
    this.#epochKey = `${options.prefix ?? 'toolgate:nonce:'}epoch`;
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    if (!Number.isSafeInteger(this.#maxEntries) || this.#maxEntries < 1) throw new TypeError('RedisNonceStore maxEntries must be a positive integer');
    this.#fenceMs = options.fenceMs ?? 330_000;
    if (!Number.isSafeInteger(this.#fenceMs) || this.#fenceMs < 0) throw new TypeError('RedisNonceStore fenceMs must be a whole number of milliseconds, 0 or more');
    this.#onClose = options.onClose;
  }

  /**
   * Connects an ioredis client the store owns. Commands fail fast while Redis is unreachable (no offline queue,
   * one retry), so the verifier fails closed instead of hanging requests. Rejects with
   * UnavailableError('replay_store_unavailable') when the first connection fails.
   */
  static async connect(url: string, options: { prefix?: string; commandTimeoutMs?: number; maxEntries?: number; fenceMs?: number } = {}): Promise<RedisNonceStore> {
    const connection = await connectRedis(url, { reason: 'replay_store_unavailable', purpose: 'replay nonces', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisNonceStore({ ...options, ...connection });
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const member = createHash('sha256').update(key).digest('base64url');
    const reply = (await evalScript(this.#send, REMEMBER, [this.#index, this.#epochKey], [member, String(Math.max(1, Math.ceil(ttlMs))), String(this.#maxEntries), this.#epoch, String(this.#fenceMs)])) as [number, string, number];
    const [status, epoch, fencedUntil] = reply;
    this.#epoch = String(epoch);
    if (Number(status) === -2) {
      throw new ReplayStoreFencedError(
        `Redis lost the replay store's data (a restart without persistence, a failover to an empty node, a flush or an eviction); signed requests are refused until ${new Date(Number(fencedUntil)).toISOString()}, when every signature it may have seen has expired. Run Redis with persistence (appendonly) and maxmemory-policy noeviction`,
      );
    }
    if (Number(status) === -1) throw new NonceStoreFullError(`replay store ${this.#index} holds ${this.#maxEntries} live nonces: raise maxEntries`);
    return Number(status) === 1;
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }
}
