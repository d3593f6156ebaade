import { ConfigError } from '../errors.js';
import { isRedisUrl } from '../redis/index.js';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import type { LimitStore } from './types.js';

export interface LimitStoreOptions {
  /** Redis URL (TOOLGATE_REDIS_URL). Unset: an in-memory store, correct for one gateway instance only. */
  readonly redisUrl?: string | undefined;
  /** Redis key prefix. Default "toolgate:limit:". */
  readonly prefix?: string;
  /** Redis command timeout. Default 2000 ms. */
  readonly commandTimeoutMs?: number;
  /** In-memory store: most counters kept. Default 100,000. */
  readonly maxKeys?: number;
  /** In-memory store: most entries kept over all counters. Default 1,000,000. */
  readonly maxEntries?: number;
}

const KNOWN = new Set(['redisUrl', 'prefix', 'commandTimeoutMs', 'maxKeys', 'maxEntries']);

/**
 * The limit store for this deployment: Redis when `redisUrl` is set (connected once, here), else memory.
 * Rejects with ConfigError for bad options and UnavailableError('limits_unavailable') when Redis cannot be reached.
 */
export async function createLimitStore(options: Readonly<LimitStoreOptions> = {}): Promise<LimitStore> {
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new ConfigError('limits_option_unknown', `createLimitStore: unknown option "${key}"; known options are ${[...KNOWN].join(', ')}.`);
  }
  const { redisUrl, prefix, commandTimeoutMs, maxKeys, maxEntries } = options;
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '')) {
    throw new ConfigError('limits_option_invalid', 'createLimitStore: prefix must be a non-empty string (default "toolgate:limit:").');
  }
  if (commandTimeoutMs !== undefined && (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs <= 0)) {
    throw new ConfigError('limits_option_invalid', 'createLimitStore: commandTimeoutMs must be a positive integer of milliseconds (default 2000).');
  }
  if (redisUrl === undefined || redisUrl === '') {
    return new MemoryLimitStore({ ...(maxKeys === undefined ? {} : { maxKeys }), ...(maxEntries === undefined ? {} : { maxEntries }) });
  }
  if (!isRedisUrl(redisUrl)) {
    throw new ConfigError('redis_url_invalid', 'createLimitStore: redisUrl must look like redis://host:6379, rediss:// for TLS, or redis+sentinel://host1:26379,host2:26379/mymaster.');
  }
  return RedisLimitStore.connect(redisUrl, {
    ...(prefix === undefined ? {} : { prefix }),
    ...(commandTimeoutMs === undefined ? {} : { commandTimeoutMs }),
  });
}
