import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { createLimitStore, RedisLimitStore } from '../../src/limits/index.js';
import { sendCommandOf, startRedisServer, useTestRedis } from '../helpers/redis.js';
import { budget, limitStoreContract, rate, refused, reserved, T0 } from './contract.js';

const redis = useTestRedis();
const send = sendCommandOf;
/** Under the run's prefix, which the harness deletes afterwards (some counters live a day). */
const testPrefix = (prefix = `limit:${randomUUID()}:`): string => `${redis().prefix}${prefix}`;

let first: Redis;
let second: Redis;

beforeAll(async () => {
  first = await redis().client();
  second = await redis().client();
});

limitStoreContract(
  'redis',
  () => ({
    create: async (prefix) => new RedisLimitStore({ sendCommand: send(first), prefix: testPrefix(prefix) }),
    createPeer: async (prefix) => new RedisLimitStore({ sendCommand: send(second), prefix: testPrefix(prefix) }),
  }),
  { shared: true },
);

describe('RedisLimitStore specifics', () => {
  it('data layout: per (kind, window, key) a sorted set (member "<id>:<index>:<cost>", score = nowMs) and a running sum, PEXPIRE = window', async () => {
    const prefix = testPrefix();
    const s = new RedisLimitStore({ sendCommand: send(first), prefix });
    reserved(await s.reserve([rate('agent:a:email.send', 5, 60), budget('agent:a:trade', 1000, 12.5, 86_400)], 'dec-1', T0));
    expect((await first.call('ZRANGE', `${prefix}rate:60000:agent:a:email.send`, '0', '-1', 'WITHSCORES') as unknown[]).flat()).toEqual(['dec-1:0:1', String(T0)]);
    expect((await first.call('ZRANGE', `${prefix}budget:86400000:agent:a:trade`, '0', '-1', 'WITHSCORES') as unknown[]).flat()).toEqual(['dec-1:1:12.5', String(T0)]);
    expect(await first.get(`${prefix}sum:rate:60000:agent:a:email.send`)).toBe('1');
    expect(await first.get(`${prefix}sum:budget:86400000:agent:a:trade`)).toBe('12.5');
    for (const key of [`${prefix}rate:60000:agent:a:email.send`, `${prefix}sum:rate:60000:agent:a:email.send`]) {
      const ttl = await first.pttl(key);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it('a lost running sum (evicted under maxmemory, say) is recounted from the entries', async () => {
    const prefix = testPrefix();
    const s = new RedisLimitStore({ sendCommand: send(first), prefix });
    for (let i = 0; i < 3; i++) reserved(await s.reserve([budget('b', 10, 3)], `r${i}`, T0));
    await first.del(`${prefix}sum:budget:86400000:b`);
    expect(refused(await s.reserve([budget('b', 10, 2)], 'r3', T0)).used).toBe(9);
    expect(await first.get(`${prefix}sum:budget:86400000:b`)).toBe('9');
    reserved(await s.reserve([budget('b', 10, 1)], 'r4', T0));
  });

  it('default prefix is toolgate:limit:', async () => {
    const s = new RedisLimitStore({ sendCommand: send(first) });
    const key = `test-${randomUUID()}`;
    const r = reserved(await s.reserve([rate(key, 1)], 'r', T0));
    expect(await first.exists(`toolgate:limit:rate:60000:${key}`)).toBe(1);
    await s.release(r);
    expect(await first.exists(`toolgate:limit:rate:60000:${key}`)).toBe(0);
  });

  it('runs the script by EVALSHA and falls back to EVAL on NOSCRIPT', async () => {
    const seen: string[] = [];
    let injectNoScript = true;
    const s = new RedisLimitStore({
      prefix: testPrefix(),
      sendCommand: async (...a) => {
        seen.push(a[0] ?? '');
        if (a[0] === 'EVALSHA' && injectNoScript) {
          injectNoScript = false;
          throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        }
        return send(first)(...a);
      },
    });
    reserved(await s.reserve([rate('k', 2)], 'r1', T0));
    reserved(await s.reserve([rate('k', 2)], 'r2', T0));
    refused(await s.reserve([rate('k', 2)], 'r3', T0));
    expect(seen).toEqual(['EVALSHA', 'EVAL', 'EVALSHA', 'EVALSHA']);
  });

  it('createLimitStore({ redisUrl }) connects an owned client; close() quits it', async () => {
    const s = await createLimitStore({ redisUrl: redis().url, prefix: testPrefix() });
    expect(s).toBeInstanceOf(RedisLimitStore);
    reserved(await s.reserve([rate('k', 1)], 'r1', T0));
    refused(await s.reserve([rate('k', 1)], 'r2', T0));
    await s.close?.();
  });

  it('Redis unreachable at start-up: createLimitStore rejects with UnavailableError, without leaking the password', async () => {
    const error = await createLimitStore({ redisUrl: 'redis://:hunter2@127.0.0.1:1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ reason: 'limits_unavailable' });
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('Redis down: reserve() and release() reject with UnavailableError(limits_unavailable)', async () => {
    const own = await startRedisServer();
    try {
      const s = await createLimitStore({ redisUrl: own.url, commandTimeoutMs: 1000 });
      const r = reserved(await s.reserve([rate('k', 5)], 'r1', T0));
      await own.stop();
      const started = Date.now();
      const error = await s.reserve([rate('k', 5)], 'r2', T0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect(error).toMatchObject({ kind: 'unavailable', reason: 'limits_unavailable', message: expect.stringContaining('TOOLGATE_REDIS_URL') });
      expect(Date.now() - started).toBeLessThan(2000);
      await expect(s.release(r)).rejects.toMatchObject({ reason: 'limits_unavailable' });
      await s.close?.();
    } finally {
      await own.stop();
    }
  });
});
