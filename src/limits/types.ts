import type { LimitObligation } from '../policy/types.js';

export type { LimitObligation };

/**
 * What reserve() took: everything release() needs to give it back, so a reservation can be released by any store
 * instance that shares the backend (it carries no handles, only data).
 */
export interface Reservation {
  /** The caller's id for this reservation (the decision id); unique per reserve() call. */
  readonly id: string;
  /** The caller's clock when the reservation was taken; every entry carries this timestamp. */
  readonly nowMs: number;
  /** The obligations reserved, in the order given; entry i of limit i is keyed by (`id`, i). */
  readonly limits: readonly LimitObligation[];
}

/**
 * Why a reservation was refused:
 * - `limit`: the window already holds too much; it fits again after `retryAfterS`.
 * - `cost_exceeds_max`: this request alone costs more than `max`, so it never fits (`retryAfterS` = window_s).
 * - `invalid_obligation`: cost, max or window_s is not a finite number in range (`retryAfterS` = window_s or 1).
 */
export type RefusalCause = 'limit' | 'cost_exceeds_max' | 'invalid_obligation';

export type ReserveResult =
  | { readonly ok: true; readonly reservation: Reservation }
  | {
      readonly ok: false;
      /** The first obligation (in the order given) that refused. */
      readonly key: string;
      readonly kind: LimitObligation['kind'];
      readonly cause: RefusalCause;
      /** Whole seconds until enough of the window ages out for this request to fit; at least 1. */
      readonly retryAfterS: number;
      readonly max: number;
      /** Cost already counted in the window for this key (including earlier obligations of the same request). */
      readonly used: number;
    };

/**
 * Sliding-window limits, shared by rate limits, budgets and cooldowns: per limit, the sum of the costs reserved
 * within the last window_s seconds, checked as `used + cost <= max`.
 */
export interface LimitStore {
  /**
   * Reserves every obligation or none (all-or-nothing, atomic against concurrent callers sharing the store).
   * An empty list always succeeds without touching the backend. Rejects with UnavailableError when the backend
   * cannot be used; a refusal is a resolved `{ ok: false }`, never a rejection.
   */
  reserve(limits: readonly LimitObligation[], reservationId: string, nowMs: number): Promise<ReserveResult>;
  /** Gives the reservation's quota back (the tool failed). Idempotent. */
  release(reservation: Reservation): Promise<void>;
  /** Confirms the reservation: its entries stay until they age out of their window. */
  settle(reservation: Reservation): Promise<void>;
  close?(): Promise<void>;
}
