import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/redis/connect.js';
import { startRedisServer, type RedisServer } from '../../src/bench/redis-server.js';

/** A Redis that evicts keys could drop a nonce index, a limit or an approval: the gateway refuses to start on one. */
describe('connectRedis and maxmemory-policy', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it.each(['allkeys-lru', 'volatile-lru', 'volatile-ttl', 'allkeys-random'])('refuses %s with a coded error saying what to set', async (policy) => {
    await admin.config('SET', 'maxmemory-policy', policy);
    const error = await connectRedis(server.url, { reason: 'limits_unavailable', purpose: 'limits' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'config', reason: 'redis_evicts', message: expect.stringContaining(`maxmemory-policy ${policy}`) });
    expect((error as Error).message).toContain('Set maxmemory-policy noeviction');
  });

  it('connects to a Redis that never evicts', async () => {
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    const connection = await connectRedis(server.url, { reason: 'limits_unavailable', purpose: 'limits' });
    expect(await connection.sendCommand('PING')).toBe('PONG');
    await connection.onClose?.();
  });
});
