import type { LimitObligation } from '../policy/types.js';
import type { RefusalCause, Reservation, ReserveResult } from './types.js';

/**
 * The sliding-window arithmetic both stores share (the Redis Lua script mirrors it line for line; the contract
 * suite checks they agree). An entry at `ts` counts while `ts > now - windowMs`, so it ages out at `ts + windowMs`.
 */

const KINDS: ReadonlySet<string> = new Set(['rate', 'budget', 'cooldown']);

/**
 * Budgets are sums of decimal amounts (0.1 + 0.2 > 0.3 in binary floating point): allow a relative slack far
 * below any real currency unit so a request that fits exactly is not refused by rounding. Same constant in Lua.
 */
export const FIT_TOLERANCE = 1e-9;

export function fits(used: number, cost: number, max: number): boolean {
  return used + cost <= max + FIT_TOLERANCE * Math.max(1, Math.abs(max));
}

/** Whole-millisecond window; scores and expiries in Redis are integers. */
export function windowMs(limit: LimitObligation): number {
  return Math.max(1, Math.round(limit.window_s * 1000));
}

/**
 * One counter per (kind, window, key): a policy may reuse a key for a rate (cost 1) and a budget (cost = notional),
 * or for two windows; sharing one counter would mix their costs and let the shorter window prune the longer's entries.
 */
export function counterKey(prefix: string, limit: LimitObligation): string {
  return `${prefix}${limit.kind}:${windowMs(limit)}:${limit.key}`;
}

/** Where the Redis store keeps a counter's running sum; "sum:" can never collide with a kind. */
export function sumKey(prefix: string, limit: LimitObligation): string {
  return `${prefix}sum:${limit.kind}:${windowMs(limit)}:${limit.key}`;
}

/** Why an obligation can never be reserved, or undefined when it is well-formed and could fit an empty window. */
export function checkObligation(limit: LimitObligation): Exclude<RefusalCause, 'limit'> | undefined {
  const l = limit as Partial<Record<keyof LimitObligation, unknown>>;
  if (typeof l.key !== 'string' || l.key === '' || typeof l.kind !== 'string' || !KINDS.has(l.kind)) return 'invalid_obligation';
  if (!isFiniteNumber(l.window_s) || l.window_s <= 0) return 'invalid_obligation';
  if (!isFiniteNumber(l.max) || l.max < 0 || !isFiniteNumber(l.cost) || l.cost < 0) return 'invalid_obligation';
  if (!fits(0, l.cost, l.max)) return 'cost_exceeds_max';
  return undefined;
}

/** A refusal for an obligation that checkObligation() rejected; it never fits, so retry after one window. */
export function invalidRefusal(limit: LimitObligation, cause: Exclude<RefusalCause, 'limit'>): ReserveResult {
  const w = isFiniteNumber(limit.window_s) && limit.window_s > 0 ? limit.window_s : 1;
  return {
    ok: false,
    key: String(limit.key),
    kind: limit.kind,
    cause,
    retryAfterS: Math.max(1, Math.ceil(w)),
    max: limit.max,
    used: 0,
  };
}

/**
 * Milliseconds until enough of the oldest entries age out for `cost` to fit. `entries` are in time order;
 * `used` is their sum plus whatever this request already added to the same counter (that ages out last).
 */
export function retryAfterMs(entries: Iterable<{ readonly ts: number; readonly cost: number }>, used: number, cost: number, max: number, window: number, nowMs: number): number {
  let remaining = used;
  for (const e of entries) {
    remaining -= e.cost;
    if (fits(remaining, cost, max)) return e.ts + window - nowMs;
  }
  return window;
}

/** Retry-After is whole seconds, at least 1 (RFC 9110 delay-seconds; 0 would invite a hot retry loop). */
export function toRetryAfterS(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

export function checkReserveArgs(limits: unknown, reservationId: unknown, nowMs: unknown): void {
  if (!Array.isArray(limits)) throw new TypeError('reserve(limits, reservationId, nowMs): limits must be an array of limit obligations');
  if (typeof reservationId !== 'string' || reservationId === '') throw new TypeError('reserve(limits, reservationId, nowMs): reservationId must be a non-empty string, e.g. the decision id');
  if (!isFiniteNumber(nowMs)) throw new TypeError('reserve(limits, reservationId, nowMs): nowMs must be a finite number of milliseconds since the epoch, e.g. Date.now()');
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * What every store does before touching state: checks the arguments, and settles what needs no store at all —
 * an empty list (always fits) or an unusable obligation (refused). Otherwise returns the reservation to take.
 */
export function prepareReservation(
  limits: readonly LimitObligation[],
  reservationId: string,
  nowMs: number,
): { readonly settled: ReserveResult } | { readonly settled?: undefined; readonly now: number; readonly reservation: Reservation } {
  checkReserveArgs(limits, reservationId, nowMs);
  const now = Math.floor(nowMs);
  const reservation: Reservation = { id: reservationId, nowMs: now, limits };
  if (limits.length === 0) return { settled: { ok: true, reservation } };
  for (const limit of limits) {
    const bad = checkObligation(limit);
    if (bad) return { settled: invalidRefusal(limit, bad) };
  }
  return { now, reservation };
}
