import { Redis } from 'ioredis';
import { UnavailableError } from '../errors.js';
import type { RedisConnection } from './types.js';
import { errorMessage, redactUrl } from './messages.js';

export interface ConnectRedisOptions {
  /** Reason code of the UnavailableError a failed first connection rejects with, e.g. "limits_unavailable". */
  readonly reason: string;
  /** What the store keeps, for the error message: "limits", "approvals". */
  readonly purpose: string;
  /** A command that gets no reply in this long fails (and the request fails closed). Default 2000 ms. */
  readonly commandTimeoutMs?: number;
}

/**
 * Connects an ioredis client for one store. Commands fail fast while Redis is unreachable (no offline queue, one
 * retry, a command timeout), so requests fail closed with 503 instead of hanging. Rejects with
 * UnavailableError(options.reason) when the first connection fails, with the URL's password masked.
 */
export async function connectRedis(url: string, options: Readonly<ConnectRedisOptions>): Promise<RedisConnection> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    connectTimeout: 5000,
  });
  // An unhandled 'error' event would crash the process; failures surface through the commands instead.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    // Else ioredis keeps reconnecting in the background and the process never exits.
    client.disconnect();
    throw new UnavailableError(
      options.reason,
      `could not connect to Redis at ${redactUrl(url)} for ${options.purpose} (${errorMessage(error)}): start Redis or fix TOOLGATE_REDIS_URL, or unset it to keep ${options.purpose} in memory (one gateway instance only).`,
      { cause: error },
    );
  }
  return {
    sendCommand: (...args) => client.call(args[0] ?? '', ...args.slice(1)),
    onClose: async () => {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
