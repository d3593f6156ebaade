import type { NonceStore } from './types.js';

export interface MemoryNonceStoreOptions {
  /** Entries kept at most; when full, expired entries are reclaimed, else remember() refuses. Default 1,000,000. */
  readonly maxEntries?: number;
  /**
   * Bytes of keys kept at most, counting each entry as its key's UTF-8 length plus ENTRY_OVERHEAD_BYTES; when full,
   * remember() refuses like maxEntries. Default 128 MiB. Entries alone do not bound memory: keys are as long as the
   * caller makes them.
   */
  readonly maxBytes?: number;
  /** Clock in ms, for tests. Default Date.now. */
  readonly now?: () => number;
}

/** What one entry costs besides its key: a Map slot, the expiry number and the string header (V8, 64-bit). */
export const ENTRY_OVERHEAD_BYTES = 64;

/** Thrown when the store is full of live entries: refusing is safer than forgetting a nonce early. */
export class NonceStoreFullError extends Error {
  override readonly name = 'NonceStoreFullError';
}

interface Entry {
  readonly expiry: number;
  readonly bytes: number;
}

/**
 * Single-process replay store. remember() is synchronous under the hood, so concurrent callers in one process
 * cannot both see "first".
 */
export class MemoryNonceStore implements NonceStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #bytes = 0;
  #nextSweep = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    this.#maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
    this.#now = options.now ?? Date.now;
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    const now = this.#now();
    const existing = this.#entries.get(key);
    if (existing !== undefined && existing.expiry > now) return false;
    const bytes = Buffer.byteLength(key) + ENTRY_OVERHEAD_BYTES;
    // At most one sweep a second, full or not: sweeping on every call while full of live nonces would cost O(n) per
    // request exactly when an agent floods the store.
    if (now >= this.#nextSweep) this.#sweep(now);
    if (this.#full(bytes)) {
      throw new NonceStoreFullError(`replay store is full (${this.#entries.size} live nonces, ${this.#bytes} of ${this.#maxBytes} bytes, at most ${this.#maxEntries} entries): raise maxEntries/maxBytes or use the Redis store`);
    }
    this.#delete(key);
    this.#entries.set(key, { expiry: now + Math.max(1, ttlMs), bytes });
    this.#bytes += bytes;
    return true;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes counted against maxBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  #full(adding: number): boolean {
    return this.#entries.size >= this.#maxEntries || this.#bytes + adding > this.#maxBytes;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #sweep(now: number): void {
    this.#nextSweep = now + 1000;
    for (const [key, entry] of this.#entries) if (entry.expiry <= now) this.#delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
