import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { SendCommand } from '../../src/redis/index.js';
import { parseRedisUrl } from '../../src/redis/url.js';
import { integration } from './services.js';
import { startRedisServer, type RedisServer } from '../../src/bench/redis-server.js';

/**
 * The one Redis every test uses, with the same behaviour everywhere: TOOLGATE_REDIS_URL when set (make test
 * exports it); under TOOLGATE_INTEGRATION=1 its absence is a failure, never a skip; otherwise a throwaway
 * redis-server on a free loopback port, stopped afterwards. Tests write only under `prefix`, which stop() deletes,
 * so runs sharing a Redis never see each other's keys.
 */
export interface TestRedis {
  readonly url: string;
  /** A key prefix no other run uses, e.g. "toolgate-test:1a2b3c4d5e6f:". */
  readonly prefix: string;
  /** A new connected client, quit by stop(). */
  client(): Promise<Redis>;
  /** sendCommand over a new client of its own (a gateway instance's connection), quit by stop(). */
  sendCommand(): Promise<SendCommand>;
  /** Deletes the keys under `prefix`, quits the clients and stops the throwaway server, if one was started. */
  stop(): Promise<void>;
}

/** A redis-server of the test's own (always, even when TOOLGATE_REDIS_URL is set): for tests that stop it. */
export { startRedisServer, type RedisServer } from '../../src/bench/redis-server.js';

export function sendCommandOf(client: Redis): SendCommand {
  return (...args) => client.call(args[0] ?? '', ...args.slice(1));
}

export async function startTestRedis(): Promise<TestRedis> {
  const configured = process.env.TOOLGATE_REDIS_URL;
  if (!configured && integration) throw new Error('TOOLGATE_REDIS_URL is not set under TOOLGATE_INTEGRATION=1: run `make test`, which starts Redis and exports it.');
  const server = configured ? undefined : await startRedisServer();
  const url = configured || (server as RedisServer).url;
  const prefix = `toolgate-test:${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  const client = async (): Promise<Redis> => {
    // A redis+sentinel:// URL (TOOLGATE_REDIS_MODE=sentinel make test) is reached through its sentinels.
    const target = parseRedisUrl(url);
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false } as const;
    const c = target.kind === 'sentinel'
      ? new Redis({ ...options, sentinels: [...target.sentinels], name: target.name, db: target.db, ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) })
      : new Redis(url, options);
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  return {
    url,
    prefix,
    client,
    sendCommand: async () => sendCommandOf(await client()),
    stop: async () => {
      try {
        await deleteKeys(await client(), prefix);
      } finally {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
        await server?.stop();
      }
    },
  };
}

/** startTestRedis() in beforeAll and stop() in afterAll of the calling file or describe block; read it in tests. */
export function useTestRedis(): () => TestRedis {
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  return () => {
    if (!redis) throw new Error('the test Redis is not started yet: call it inside a test or hook');
    return redis;
  };
}

async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
