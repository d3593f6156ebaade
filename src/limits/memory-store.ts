import { ConfigError, UnavailableError } from '../errors.js';
import type { LimitObligation } from '../policy/types.js';
import type { LimitStore, Reservation, ReserveResult } from './types.js';
import { checkObligation, counterKey, fits, prepareReservation, retryAfterMs, toRetryAfterS, windowMs } from './window.js';

export interface MemoryLimitStoreOptions {
  /** Counters kept at most (one per kind, window and key). Default 100,000. */
  readonly maxKeys?: number;
  /** Entries kept at most over all counters. Default 1,000,000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly rid: string;
  readonly index: number;
  readonly ts: number;
  readonly cost: number;
}

interface Counter {
  readonly windowMs: number;
  /**
   * In time order; nearly always appended at the end. Live from `head` on: aged-out entries are skipped by moving
   * `head`, and cut off the array only once they are half of it, so pruning costs O(1) amortized per entry instead
   * of moving every live entry on each call (a 60 s window at 1,000 calls/s holds 60,000).
   */
  readonly entries: Entry[];
  head: number;
  /** Sum of the entries' costs, kept up to date so a check does not re-add a budget's thousands of entries. */
  sum: number;
}

/** Aged-out entries at the front of a counter are cut off once there are this many and they are half of it. */
const COMPACT_MIN = 1024;

/** Idle counters are swept at most this often (in the callers' clock), so the sweep stays off the hot path. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * Single-process limits. reserve() does its check and its insert without awaiting in between, so concurrent
 * callers in one process are serialized by the event loop: of 100 racing calls against max 10, exactly 10 fit.
 * Several gateway instances need the Redis store to share a limit.
 */
export class MemoryLimitStore implements LimitStore {
  readonly #counters = new Map<string, Counter>();
  readonly #maxKeys: number;
  readonly #maxEntries: number;
  #entryCount = 0;
  #nextSweep = 0;

  constructor(options: Readonly<MemoryLimitStoreOptions> = {}) {
    this.#maxKeys = positiveInt(options.maxKeys, 100_000, 'maxKeys');
    this.#maxEntries = positiveInt(options.maxEntries, 1_000_000, 'maxEntries');
  }

  async reserve(limits: readonly LimitObligation[], reservationId: string, nowMs: number): Promise<ReserveResult> {
    const prepared = prepareReservation(limits, reservationId, nowMs);
    if (prepared.settled) return prepared.settled;
    const { now, reservation } = prepared;
    if (now >= this.#nextSweep) this.#sweep(now);

    // Check every obligation before touching any counter: all or nothing.
    const pending = new Map<string, number>();
    const newKeys = new Set<string>();
    let newEntries = 0;
    for (const limit of limits) {
      const key = counterKey('', limit);
      const window = windowMs(limit);
      const counter = this.#prune(key, now);
      const already = pending.get(key);
      const used = (counter?.sum ?? 0) + (already ?? 0);
      if (!fits(used, limit.cost, limit.max)) {
        const ms = retryAfterMs(counter ? live(counter) : [], used, limit.cost, limit.max, window, now);
        return { ok: false, key: limit.key, kind: limit.kind, cause: 'limit', retryAfterS: toRetryAfterS(ms), max: limit.max, used };
      }
      pending.set(key, (already ?? 0) + limit.cost);
      if (limit.cost > 0) {
        newEntries++;
        if (!counter) newKeys.add(key);
      }
    }
    this.#ensureRoom(newKeys.size, newEntries, now);

    limits.forEach((limit, index) => {
      // A zero cost can never change a sum: storing it would only grow the window.
      if (limit.cost <= 0) return;
      const key = counterKey('', limit);
      let counter = this.#counters.get(key);
      if (!counter) {
        counter = { windowMs: windowMs(limit), entries: [], head: 0, sum: 0 };
        this.#counters.set(key, counter);
      }
      insertInOrder(counter, { rid: reservationId, index, ts: now, cost: limit.cost });
      counter.sum += limit.cost;
      this.#entryCount++;
    });
    return { ok: true, reservation };
  }

  async release(reservation: Reservation): Promise<void> {
    reservation.limits.forEach((limit, index) => {
      if (limit.cost <= 0 || checkObligation(limit)) return;
      const key = counterKey('', limit);
      const counter = this.#counters.get(key);
      if (!counter) return;
      // A reservation being released is recent: search from the newest end, among the live entries only (one that
      // aged out is no longer in the sum).
      const at = counter.entries.findLastIndex((e) => e.rid === reservation.id && e.index === index);
      if (at >= counter.head) {
        counter.sum = Math.max(0, counter.sum - (counter.entries[at] as Entry).cost);
        counter.entries.splice(at, 1);
        this.#entryCount--;
      }
      if (counter.entries.length === counter.head) this.#counters.delete(key);
    });
  }

  async settle(_reservation: Reservation): Promise<void> {
    // The entries are already counted; they age out of their window on their own.
  }

  async close(): Promise<void> {
    this.#counters.clear();
    this.#entryCount = 0;
  }

  /** Counters currently held (for tests and metrics). */
  get size(): number {
    return this.#counters.size;
  }

  /** Drops the counter's entries that left its window; deletes it when empty. Returns what is left. */
  #prune(key: string, now: number): Counter | undefined {
    const counter = this.#counters.get(key);
    if (!counter) return undefined;
    const cutoff = now - counter.windowMs;
    const { entries } = counter;
    let head = counter.head;
    // Subtract one entry at a time, as the Lua script does, so both stores round the same way.
    while (head < entries.length && (entries[head] as Entry).ts <= cutoff) counter.sum -= (entries[head++] as Entry).cost;
    if (head > counter.head) {
      counter.sum = Math.max(0, counter.sum);
      this.#entryCount -= head - counter.head;
      if (head >= COMPACT_MIN && head * 2 >= entries.length) {
        entries.splice(0, head);
        head = 0;
      }
      counter.head = head;
    }
    if (entries.length > head) return counter;
    this.#counters.delete(key);
    return undefined;
  }

  #sweep(now: number): void {
    this.#nextSweep = now + SWEEP_INTERVAL_MS;
    for (const key of [...this.#counters.keys()]) this.#prune(key, now);
  }

  #ensureRoom(newKeys: number, newEntries: number, now: number): void {
    const full = (): boolean => this.#counters.size + newKeys > this.#maxKeys || this.#entryCount + newEntries > this.#maxEntries;
    if (!full()) return;
    this.#sweep(now);
    if (full()) {
      throw new UnavailableError(
        'limits_unavailable',
        `the in-memory limit store is full (${this.#counters.size} of ${this.#maxKeys} counters, ${this.#entryCount} of ${this.#maxEntries} entries live): ` +
          'raise maxKeys / maxEntries, shorten the windows or key fewer distinct values in the policy, or set TOOLGATE_REDIS_URL to keep limits in Redis.',
      );
    }
  }
}

function insertInOrder(counter: Counter, entry: Entry): void {
  const { entries } = counter;
  let i = entries.length;
  // Callers' clocks only move forward in practice, so this loop almost never runs.
  while (i > counter.head && (entries[i - 1] as Entry).ts > entry.ts) i--;
  if (i === entries.length) entries.push(entry);
  else entries.splice(i, 0, entry);
}

/** A counter's live entries, oldest first. */
function* live(counter: Counter): Generator<Entry> {
  for (let i = counter.head; i < counter.entries.length; i++) yield counter.entries[i] as Entry;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError('limits_option_invalid', `MemoryLimitStore: ${name} must be a positive integer (default ${fallback}); got ${String(value)}`);
  return value;
}
