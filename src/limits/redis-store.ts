import { UnavailableError } from '../errors.js';
import type { LimitObligation } from '../policy/types.js';
import { connectRedis, errorMessage, evalScript, requireSendCommand, type LuaScript, type RedisStoreOptions, type SendCommand } from '../redis/index.js';
import { RELEASE, RESERVE } from './scripts.js';
import type { LimitStore, Reservation, ReserveResult } from './types.js';
import { checkObligation, counterKey, prepareReservation, sumKey, toRetryAfterS, windowMs } from './window.js';

export interface RedisLimitStoreOptions extends RedisStoreOptions {
  /** Prefix of every key the store writes. Default "toolgate:limit:". */
  readonly prefix?: string;
}

export interface RedisLimitStoreConnectOptions {
  /** Default "toolgate:limit:". */
  readonly prefix?: string;
  /** A command that gets no reply in this long fails (and the request fails closed). Default 2000 ms. */
  readonly commandTimeoutMs?: number;
}

/**
 * Limits shared by every gateway instance on one Redis. Each counter is a sorted set (score = the caller's clock
 * in ms, member = "<reservation id>:<index>:<cost>") plus a string with the sum of its costs. One Lua script
 * prunes, checks and adds for all of a request's limits at once, so reservations are atomic across instances.
 *
 * Time comes from the caller (nowMs), not from Redis: instances must keep their clocks in sync (NTP); a skew of
 * s seconds lets one instance see a window s seconds longer or shorter than another. Counter keys carry no hash
 * tag, so a multi-limit reservation needs a single Redis node (or a Redis Cluster where they share a slot).
 */
export class RedisLimitStore implements LimitStore {
  readonly #send: SendCommand;
  readonly #prefix: string;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(options: Readonly<RedisLimitStoreOptions>) {
    this.#send = requireSendCommand(options, 'RedisLimitStore');
    this.#prefix = options.prefix ?? 'toolgate:limit:';
    this.#onClose = options.onClose;
  }

  /**
   * Connects an ioredis client the store owns. Commands fail fast while Redis is unreachable (no offline queue,
   * one retry, a command timeout), so requests with limits fail closed with 503 instead of hanging.
   * Rejects with UnavailableError('limits_unavailable') when the first connection fails.
   */
  static async connect(url: string, options: Readonly<RedisLimitStoreConnectOptions> = {}): Promise<RedisLimitStore> {
    const connection = await connectRedis(url, { reason: 'limits_unavailable', purpose: 'limits', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisLimitStore({ ...options, ...connection });
  }

  async reserve(limits: readonly LimitObligation[], reservationId: string, nowMs: number): Promise<ReserveResult> {
    const prepared = prepareReservation(limits, reservationId, nowMs);
    if (prepared.settled) return prepared.settled;
    const { now, reservation } = prepared;
    const keys: string[] = [];
    const args: string[] = [String(now)];
    limits.forEach((limit, index) => {
      keys.push(counterKey(this.#prefix, limit), sumKey(this.#prefix, limit));
      args.push(String(windowMs(limit)), String(limit.max), String(limit.cost), member(reservationId, index, limit.cost));
    });
    const reply = await this.#run('reserve', RESERVE, keys, args);
    if (reply === 0) return { ok: true, reservation };
    const refused = parseRefusal(reply, limits);
    return { ...refused, ok: false, cause: 'limit' };
  }

  async release(reservation: Reservation): Promise<void> {
    const keys: string[] = [];
    const members: string[] = [];
    reservation.limits.forEach((limit, index) => {
      if (limit.cost <= 0 || checkObligation(limit)) return;
      keys.push(counterKey(this.#prefix, limit), sumKey(this.#prefix, limit));
      members.push(member(reservation.id, index, limit.cost));
    });
    if (keys.length > 0) await this.#run('release', RELEASE, keys, members);
  }

  async settle(_reservation: Reservation): Promise<void> {
    // The entries are already counted; PEXPIRE drops a counter once its newest entry has aged out.
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }

  async #run(what: string, script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await evalScript(this.#send, script, keys, args);
    } catch (error) {
      throw new UnavailableError(
        'limits_unavailable',
        `Redis failed to ${what} limits (${errorMessage(error)}): requests with limits fail closed until Redis at TOOLGATE_REDIS_URL answers again; check that it is up and reachable.`,
        { cause: error },
      );
    }
  }
}

/** The cost rides in the member so the script can sum a window from one ZRANGE; the index keeps repeats apart. */
function member(reservationId: string, index: number, cost: number): string {
  return `${reservationId}:${index}:${String(cost)}`;
}

function parseRefusal(reply: unknown, limits: readonly LimitObligation[]): { key: string; kind: LimitObligation['kind']; retryAfterS: number; max: number; used: number } {
  if (Array.isArray(reply) && reply.length === 3) {
    const limit = limits[Number(reply[0]) - 1];
    const used = Number(reply[1]);
    const retryMs = Number(reply[2]);
    if (limit && Number.isFinite(used) && Number.isFinite(retryMs)) {
      return { key: limit.key, kind: limit.kind, retryAfterS: toRetryAfterS(retryMs), max: limit.max, used };
    }
  }
  throw new UnavailableError('limits_unavailable', `Redis answered the limits script with ${JSON.stringify(reply)}: another program may be writing under the same key prefix; give toolgate its own prefix.`);
}
