import { hash, randomBytes } from 'node:crypto';
import type { NonceStore, ReplayStoreStats } from './types.js';

export interface MemoryNonceStoreOptions {
  /** Live entries kept at most; when full, expired entries are reclaimed, else remember() refuses. Default 1,000,000. */
  readonly maxEntries?: number;
  /**
   * Bytes of the table at most (SLOT_BYTES a slot, whatever the key's length); when the table cannot grow, remember()
   * refuses like maxEntries. Default 128 MiB.
   */
  readonly maxBytes?: number;
  /** Clock in ms, for tests. Default Date.now. */
  readonly now?: () => number;
  /** Slots of the first table: a power of two, 8 or more. Default 4,096 (80 KiB). For tests: a small table collides often. */
  readonly initialSlots?: number;
  /** Slots the reclaim cursor examines per call. Default RECLAIM_PER_CALL. For tests: 0 leaves expired entries to inserts and rebuilds. */
  readonly reclaimPerCall?: number;
}

/** One slot: 12 bytes of the key's keyed SHA-256, 8 of its expiry (ms). */
export const SLOT_BYTES = 20;

/** Digest words a slot keeps: 96 bits, so two distinct keys share one with probability n² / 2^97 (about 1e-17 for a million). */
const WORDS = 3;
/** Inserting into an empty slot past this share of the table rebuilds it first (linear probing degrades above). */
const MAX_LOAD = 0.75;
/** A rebuilt table is at most half full, so at least a quarter of it fills before the next rebuild: amortized O(1). */
const REBUILT_LOAD = 0.5;
/** Slots the reclaim cursor examines per call: a table of 2^20 slots is walked every 65,536 calls. */
export const RECLAIM_PER_CALL = 16;
/** An empty slot's expiry: below every clock reading, so no expiry (now + ttl) can be mistaken for it. */
const EMPTY = -Infinity;

function emptyExpiries(slots: number): Float64Array {
  return new Float64Array(slots).fill(EMPTY);
}

/** Thrown when the store is full of live entries: refusing is safer than forgetting a nonce early. */
export class NonceStoreFullError extends Error {
  override readonly name = 'NonceStoreFullError';
}

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/**
 * Single-process replay store: an open-addressing table (linear probing) in two typed arrays, off the JavaScript
 * heap. A key is kept as 96 bits of SHA-256 over a per-store random salt and the key, so an entry costs SLOT_BYTES
 * however long its key, a major GC has no per-nonce object to mark (a `Map` of strings cost 147 bytes and two heap
 * objects a nonce, 40-50 MiB of live heap at 300,000 nonces, which V8's heap then held two to three times over), and
 * nobody can aim keys at one probe chain without the salt.
 *
 * Expired entries are reclaimed three ways: a cursor examines RECLAIM_PER_CALL slots per call and deletes expired
 * ones (backward-shift deletion keeps every probe chain contiguous, so a lookup may stop at the first empty slot);
 * an insert reuses the first expired slot on its key's chain; a rebuild (the table growing, shrinking or compacted)
 * keeps only live entries. remember() is synchronous under the hood, so concurrent callers in one process cannot
 * both see "first".
 */
export class MemoryNonceStore implements NonceStore {
  readonly #maxEntries: number;
  readonly #maxSlots: number;
  readonly #initialSlots: number;
  readonly #now: () => number;
  readonly #reclaimPerCall: number;
  readonly #salt = randomBytes(16).toString('base64');
  /** WORDS digest words per slot. */
  #digests!: Uint32Array;
  /** Expiry in ms per slot; EMPTY marks an empty slot. */
  #expiry!: Float64Array;
  #mask!: number;
  /** Slots holding an entry, live or expired but not yet reclaimed. */
  #occupied = 0;
  #cursor = 0;
  /** Entries inserted into empty slots since the last rebuild, and when a rebuild may next run only to compact. */
  #insertedSinceRebuild = 0;
  #nextCompaction = 0;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1_000_000;
    const maxBytes = options.maxBytes ?? 128 * 1024 * 1024;
    this.#initialSlots = options.initialSlots ?? 4096;
    this.#now = options.now ?? Date.now;
    this.#reclaimPerCall = options.reclaimPerCall ?? RECLAIM_PER_CALL;
    if (!(Number.isInteger(this.#maxEntries) && this.#maxEntries > 0)) throw new RangeError(`MemoryNonceStore maxEntries must be a positive integer, not ${String(options.maxEntries)}`);
    if (!isPowerOfTwo(this.#initialSlots) || this.#initialSlots < 8) throw new RangeError(`MemoryNonceStore initialSlots must be a power of two of 8 or more, not ${String(options.initialSlots)}`);
    if (!(maxBytes >= this.#initialSlots * SLOT_BYTES)) {
      throw new RangeError(`MemoryNonceStore maxBytes ${String(options.maxBytes)} is under one table of ${this.#initialSlots} slots (${this.#initialSlots * SLOT_BYTES} bytes): raise it or lower initialSlots`);
    }
    this.#maxSlots = 2 ** Math.floor(Math.log2(maxBytes / SLOT_BYTES));
    this.#empty(this.#initialSlots);
  }

  /** Replaces the table with an empty one of `slots` slots; the counts are the caller's to set. */
  #empty(slots: number): void {
    this.#digests = new Uint32Array(slots * WORDS);
    this.#expiry = emptyExpiries(slots);
    this.#mask = slots - 1;
    this.#cursor = 0;
  }

  async remember(key: string, ttlMs: number): Promise<boolean> {
    if (Number.isNaN(ttlMs)) throw new RangeError('MemoryNonceStore.remember: ttlMs is NaN');
    const now = this.#now();
    const expiry = now + Math.max(1, ttlMs);
    // UTF-8 is injective on well-formed strings only (a lone surrogate becomes U+FFFD), so any other key is hashed as
    // its JSON, which escapes it; the tag after the fixed-length salt keeps the two kinds apart.
    const digest = hash('sha256', key.isWellFormed() ? `${this.#salt}k${key}` : `${this.#salt}j${JSON.stringify(key)}`, 'buffer');
    const d0 = digest.readUInt32LE(0);
    const d1 = digest.readUInt32LE(4);
    const d2 = digest.readUInt32LE(8);
    this.#reclaimSome(now);
    let slot = this.#find(d0, d1, d2, now);
    if (slot >= 0) {
      const held = this.#expiry[slot]!;
      if (held > now) return false;
      this.#expiry[slot] = expiry; // the same key, expired: renewed where it lies
      return true;
    }
    slot = ~slot;
    if (this.#expiry[slot] === EMPTY) {
      // A new slot: the only way the table fills.
      if (this.#occupied + 1 > this.#limit()) {
        if (this.#mayRebuild(now)) this.#rebuild(now);
        if (this.#occupied + 1 > this.#limit()) throw this.#fullError();
        slot = ~this.#find(d0, d1, d2, now);
      }
      this.#occupied += 1;
      this.#insertedSinceRebuild += 1;
    }
    const at = slot * WORDS;
    this.#digests[at] = d0;
    this.#digests[at + 1] = d1;
    this.#digests[at + 2] = d2;
    this.#expiry[slot] = expiry;
    return true;
  }

  /** Slots holding an entry: the live ones and expired ones not reclaimed yet. */
  get size(): number {
    return this.#occupied;
  }

  /** Bytes of the table (counted against maxBytes). */
  get bytes(): number {
    return this.#expiry.length * SLOT_BYTES;
  }

  stats(): ReplayStoreStats {
    return { entries: this.#occupied, maxEntries: this.#maxEntries, bytes: this.bytes, maxBytes: this.#maxSlots * SLOT_BYTES };
  }

  /**
   * The key's slot when it is in the table; else ~slot of where it goes: the first expired slot on its chain, or the
   * empty slot that ends the chain.
   */
  #find(d0: number, d1: number, d2: number, now: number): number {
    const digests = this.#digests;
    const expiries = this.#expiry;
    const mask = this.#mask;
    let reusable = -1;
    for (let slot = d0 & mask; ; slot = (slot + 1) & mask) {
      const held = expiries[slot]!;
      if (held === EMPTY) return ~(reusable >= 0 ? reusable : slot);
      const at = slot * WORDS;
      if (digests[at] === d0 && digests[at + 1] === d1 && digests[at + 2] === d2) return slot;
      if (reusable < 0 && held <= now) reusable = slot;
    }
  }

  /** Entries the table may hold before a rebuild: maxEntries, or its load limit if lower. */
  #limit(): number {
    return Math.min(this.#maxEntries, Math.floor(this.#expiry.length * MAX_LOAD));
  }

  /**
   * A rebuild costs a walk of the table. One that can grow it, or that follows a quarter of a table's inserts, is paid
   * for by them; one that can only compact a table full of live entries runs at most once a second, so a flood of
   * live nonces costs O(1) per refused call, not a walk each.
   */
  #mayRebuild(now: number): boolean {
    const slots = this.#expiry.length;
    if (this.#occupied + 1 <= this.#maxEntries && slots < this.#maxSlots) return true;
    if (this.#insertedSinceRebuild >= slots / 4) return true;
    return now >= this.#nextCompaction;
  }

  /** A new table sized for the live entries (at most REBUILT_LOAD full, within maxBytes), holding only them. */
  #rebuild(now: number): void {
    this.#nextCompaction = now + 1000;
    this.#insertedSinceRebuild = 0;
    const oldDigests = this.#digests;
    const oldExpiry = this.#expiry;
    let live = 0;
    for (let slot = 0; slot < oldExpiry.length; slot += 1) if (oldExpiry[slot]! > now) live += 1;
    let slots = this.#initialSlots;
    while (slots < this.#maxSlots && (live + 1) / slots > REBUILT_LOAD) slots *= 2;
    this.#empty(slots);
    const digests = this.#digests;
    const expiries = this.#expiry;
    const mask = this.#mask;
    for (let from = 0; from < oldExpiry.length; from += 1) {
      const held = oldExpiry[from]!;
      if (held <= now) continue; // expired, or empty
      const at = from * WORDS;
      let slot = oldDigests[at]! & mask;
      while (expiries[slot] !== EMPTY) slot = (slot + 1) & mask;
      const to = slot * WORDS;
      digests[to] = oldDigests[at]!;
      digests[to + 1] = oldDigests[at + 1]!;
      digests[to + 2] = oldDigests[at + 2]!;
      expiries[slot] = held;
    }
    this.#occupied = live;
  }

  /** Examines the next reclaimPerCall slots and deletes the expired ones. */
  #reclaimSome(now: number): void {
    const expiries = this.#expiry;
    let slot = this.#cursor;
    for (let examined = 0; examined < this.#reclaimPerCall; examined += 1) {
      const held = expiries[slot]!;
      // A deletion shifts a later entry into this slot: look at it again.
      if (held !== EMPTY && held <= now) this.#delete(slot);
      else slot = (slot + 1) & this.#mask;
    }
    this.#cursor = slot;
  }

  /**
   * Empties `slot` by backward shift (Knuth's algorithm R): each later entry of the cluster whose home is not
   * cyclically within (gap, its slot] moves into the gap, so no chain is ever broken by an empty slot.
   */
  #delete(slot: number): void {
    const digests = this.#digests;
    const expiries = this.#expiry;
    const mask = this.#mask;
    let gap = slot;
    for (let next = (gap + 1) & mask; expiries[next] !== EMPTY; next = (next + 1) & mask) {
      const home = digests[next * WORDS]! & mask;
      const stays = gap <= next ? gap < home && home <= next : gap < home || home <= next;
      if (stays) continue;
      digests.copyWithin(gap * WORDS, next * WORDS, next * WORDS + WORDS);
      expiries[gap] = expiries[next]!;
      gap = next;
    }
    expiries[gap] = EMPTY;
    this.#occupied -= 1;
  }

  #fullError(): NonceStoreFullError {
    return new NonceStoreFullError(
      `replay store is full (${this.#occupied} nonces not yet expired or reclaimed, at most ${this.#maxEntries} entries, a table of ${this.bytes} bytes of at most ${this.#maxSlots * SLOT_BYTES}): raise maxEntries/maxBytes or use the Redis store`,
    );
  }

  async close(): Promise<void> {
    this.#empty(this.#initialSlots);
    this.#occupied = 0;
    this.#insertedSinceRebuild = 0;
  }
}
