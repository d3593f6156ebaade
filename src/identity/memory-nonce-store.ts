import type { NonceStore } from './types.js';

export interface MemoryNonceStoreOptions {
  /** Entries kept at most; past it the oldest-expiring are dropped only if expired, else remember() refuses. Default 1,000,000. */
  readonly maxEntries?: number;
  /** Clock in ms, for tests. Default Date.now. */
  readonly now?: () => number;
}

/** Thrown when the store is full of live entries: refusing is safer than forgetting a nonce early. */
export class NonceStoreFullError extends Error {
  override readonly name = 'NonceStoreFullError';
}

/**
 * Single-process replay store. remember() is synchronous under the hood, so concurrent callers in one process
 * cannot both see "first".
 */
export class MemoryNonceStore implements NonceStore {
  readonly #entries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#now = options.now ?? Date.now;
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const expiry = this.#entries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    if (this.#entries.size >= this.#maxEntries || now >= this.#nextSweep) this.#sweep(now);
    if (this.#entries.size >= this.#maxEntries) throw new NonceStoreFullError(`replay store holds ${this.#maxEntries} live nonces: raise maxEntries or use the Redis store`);
    this.#entries.delete(key);
    this.#entries.set(key, now + Math.max(1, ttlMs));
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }

  #sweep(now: number): void {
    // Amortized: a full pass at most once a second keeps remember() O(1) on average.
    this.#nextSweep = now + 1000;
    for (const [key, expiry] of this.#entries) if (expiry <= now) this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
