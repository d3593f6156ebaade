import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, UnavailableError } from '../errors.js';
import type { RedisConnection } from './types.js';
import { errorMessage, redactUrl } from './messages.js';
import { parseRedisUrl, type RedisTarget } from './url.js';
import { waitForReplicas } from './wait-replicas.js';

export interface ConnectRedisOptions {
  /** Reason code of the UnavailableError a failed first connection rejects with, e.g. "limits_unavailable". */
  readonly reason: string;
  /** What the store keeps, for the error message: "limits", "approvals". */
  readonly purpose: string;
  /** A command that gets no reply in this long fails (and the request fails closed). Default 2000 ms. */
  readonly commandTimeoutMs?: number;
  /** The first connection (sentinels asked, primary reached) must succeed within this. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects an ioredis client for one store, to one Redis (`redis://`) or to the primary Sentinel names
 * (`redis+sentinel://`, url.ts). Every command fails fast instead of waiting for Redis to come back, so requests
 * fail closed with 503 (options.reason) and never hang:
 * - no offline queue: a command sent while disconnected (a failover in progress) is refused at once;
 * - maxRetriesPerRequest 0 and no resend: a command in flight when the connection drops is failed, not replayed
 *   on the next primary, whose outcome on the old one is unknown (a replayed reservation or nonce would count
 *   twice, or be refused as a replay of itself);
 * - commandTimeout: a primary that stopped answering fails the command after commandTimeoutMs;
 * - READONLY (a demoted primary still connected) reconnects, which under Sentinel asks for the new primary.
 * The client reconnects in the background (every 50-500 ms), so service resumes without a restart. Writes wait
 * for the URL's waitReplicas (wait-replicas.ts). Rejects with UnavailableError(options.reason) when the first
 * connection fails, with credentials masked.
 */
export async function connectRedis(url: string, options: Readonly<ConnectRedisOptions>): Promise<RedisConnection> {
  const target = parseRedisUrl(url);
  const client = createClient(target, options.commandTimeoutMs ?? 2000);
  // An unhandled 'error' event would crash the process; failures surface through the commands instead.
  client.on('error', () => undefined);
  const connectMs = options.connectTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Bounded: with sentinels that never answer, ioredis would keep asking them forever.
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${target.kind === 'sentinel' ? 'primary found through the sentinels' : 'connection'} within ${connectMs} ms`)), connectMs);
      }),
    ]);
  } catch (error) {
    // Else ioredis keeps reconnecting in the background and the process never exits.
    client.disconnect();
    throw new UnavailableError(
      options.reason,
      `could not connect to Redis at ${redactUrl(url)} for ${options.purpose} (${errorMessage(error)}): start Redis${target.kind === 'sentinel' ? ' and its sentinels' : ''} or fix TOOLGATE_REDIS_URL, or unset it to keep ${options.purpose} in memory (one gateway instance only).`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  await requireNoEviction(client, url);
  let closed = false;
  keepReconnecting(client, () => closed);
  const send = (...args: string[]) => client.call(args[0] ?? '', ...args.slice(1));
  return {
    sendCommand: waitForReplicas(send, target.waitReplicas, target.waitTimeoutMs, (acked) => new UnavailableError(
      options.reason,
      `Redis took the write for ${options.purpose}, but only ${acked} of ${target.waitReplicas} replica(s) confirmed it within ${target.waitTimeoutMs} ms, so a failover could lose it; nothing ran. Check the replicas (redis-cli INFO replication), or lower waitReplicas in TOOLGATE_REDIS_URL.`,
    )),
    onClose: async () => {
      closed = true;
      await client.quit().catch(() => undefined);
      // quit() leaves a Sentinel client's connections to the sentinels open, which kept `toolgate serve` alive after
      // SIGTERM; disconnect() closes them (and anything quit() could not).
      client.disconnect();
    },
  };
}

/**
 * ioredis gives up for good (status "end") when a connection attempt is cut short, e.g. when the sentinels'
 * +switch-master arrives while it is still asking them for the primary: the failover detector disconnects the
 * connector mid-lookup, the lookup rejects, and no reconnect is scheduled. Seen in the failover test: both
 * gateways refused every call for 90 s after the primary was killed. So a client that ends without close() being
 * called connects again, with the same backoff as ioredis's own retries.
 */
function keepReconnecting(client: Redis, closed: () => boolean): void {
  let attempt = 0;
  client.on('ready', () => {
    attempt = 0;
  });
  client.on('end', () => {
    if (closed()) return;
    attempt++;
    setTimeout(() => {
      if (!closed() && client.status === 'end') client.connect().catch(() => undefined);
    }, Math.min(attempt * 50, 500)).unref();
  });
}

function createClient(target: RedisTarget, commandTimeout: number): Redis {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands issued in the same event-loop turn go out in one write, and Redis reads them in one: the same commands
    // in the same order on the same connection (ioredis pipelines every client's commands anyway; this only stops
    // it writing them one syscall at a time). Measured with `serve --workers 2` at 100 connections, three alternating
    // pairs: Redis CPU per call 126-127 -> 67-74 µs, calls per second +6-11 %.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout,
    connectTimeout: 5000,
    retryStrategy: (attempt) => Math.min(attempt * 50, 500),
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  };
  if (target.kind === 'single') return new Redis(target.url, common);
  return new Redis({
    ...common,
    sentinels: target.sentinels.map((s) => ({ ...s })),
    name: target.name,
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    // Subscribes to the sentinels' +switch-master, so a failover is followed at once rather than on the next error.
    failoverDetector: true,
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
}

/**
 * Refuses a Redis that evicts keys under memory pressure: an eviction can drop the replay store's index, a limit's
 * entries or an approval record (any key, with allkeys-*; any key with an expiry, with volatile-*, which the nonce
 * index has), and a replay or a call past its limit would then pass. Checked with CONFIG GET; a Redis that does not
 * allow CONFIG (some managed services rename it) cannot be checked here, and its operator must set noeviction.
 */
async function requireNoEviction(client: Redis, url: string): Promise<void> {
  let policy: unknown;
  try {
    policy = await client.call('CONFIG', 'GET', 'maxmemory-policy');
  } catch {
    return;
  }
  const value = Array.isArray(policy) ? policy[1] : undefined;
  if (typeof value !== 'string' || value === 'noeviction') return;
  client.disconnect();
  throw new ConfigError(
    'redis_evicts',
    `Redis at ${redactUrl(url)} evicts keys under memory pressure (maxmemory-policy ${value}): it could drop replay nonces, limits or approvals and let a call through twice. Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction) and give Redis the memory it needs.`,
  );
}
