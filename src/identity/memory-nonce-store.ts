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

const entryBytes = (key: string): number => Buffer.byteLength(key) + ENTRY_OVERHEAD_BYTES;

/** Thrown when the store is full of live entries: refusing is safer than forgetting a nonce early. */
export class NonceStoreFullError extends Error {
  override readonly name = 'NonceStoreFullError';
}

/**
 * Single-process replay store. remember() is synchronous under the hood, so concurrent callers in one process
 * cannot both see "first".
 */
export class MemoryNonceStore implements NonceStore {
  /**
   * Key → expiry (ms). A number, not an object: the store holds up to a window's worth of nonces (300,000 at 1,000
   * calls/s), and every object among them is one more for each major GC to mark; an entry's bytes are its key's.
   */
  readonly #entries = new Map<string, number>();
  /**
   * Keys by the second their entry expires in (ceil(expiry / 1000)), so a sweep visits the seconds that have begun
   * instead of every live entry: at 1,000 calls/s over a 300 s window the full walk held the event loop 4-24 ms once
   * a second (294,000 entries, shared 2-core machine) and cost about 5 µs per call. A key re-remembered after it
   * expired sits in two seconds; the sweep deletes an entry only when it has expired.
   */
  readonly #bySecond = new Map<number, string[]>();
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
    if (existing !== undefined && existing > now) return false;
    const bytes = entryBytes(key);
    // At most one sweep a second, full or not: sweeping on every call while full of live nonces would cost O(n) per
    // request exactly when an agent floods the store.
    if (now >= this.#nextSweep) this.#sweep(now);
    if (this.#full(bytes)) {
      throw new NonceStoreFullError(`replay store is full (${this.#entries.size} live nonces, ${this.#bytes} of ${this.#maxBytes} bytes, at most ${this.#maxEntries} entries): raise maxEntries/maxBytes or use the Redis store`);
    }
    this.#delete(key);
    const expiry = now + Math.max(1, ttlMs);
    this.#entries.set(key, expiry);
    this.#bytes += bytes;
    const second = Math.ceil(expiry / 1000);
    const keys = this.#bySecond.get(second);
    if (keys === undefined) this.#bySecond.set(second, [key]);
    else keys.push(key);
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
    if (!this.#entries.delete(key)) return;
    this.#bytes -= entryBytes(key);
  }

  /** Deletes every entry that has expired (expiry <= now), as a walk of all of them would, visiting only their seconds. */
  #sweep(now: number): void {
    this.#nextSweep = now + 1000;
    for (const [second, keys] of this.#bySecond) {
      // Entries of this second expire after (second - 1) * 1000: none has yet.
      if ((second - 1) * 1000 >= now) continue;
      const left: string[] = [];
      for (const key of keys) {
        const expiry = this.#entries.get(key);
        if (expiry === undefined || Math.ceil(expiry / 1000) !== second) continue; // gone, or listed under its new second
        if (expiry <= now) this.#delete(key);
        else left.push(key);
      }
      if (left.length > 0) this.#bySecond.set(second, left);
      else this.#bySecond.delete(second);
    }
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#bySecond.clear();
    this.#bytes = 0;
  }
}
