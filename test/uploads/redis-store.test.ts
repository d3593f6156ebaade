import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { RedisUploadStore } from '../../src/uploads/index.js';
import { startRedisServer, useTestRedis } from '../helpers/redis.js';
import { uploadRecord, uploadStoreContract } from './store-contract.js';

const redis = useTestRedis();

uploadStoreContract(
  'redis',
  () => ({
    create: async () => new RedisUploadStore({ sendCommand: await redis().sendCommand(), prefix: `${redis().prefix}upload:` }),
    createPeer: async () => RedisUploadStore.connect(redis().url, { prefix: `${redis().prefix}upload:` }),
  }),
  { shared: true },
);

describe('RedisUploadStore', () => {
  it('keeps each record as JSON under <prefix><id>, expiring after ttlMs (default 7 days)', async () => {
    const client = await redis().client();
    const prefix = `${redis().prefix}layout:`;
    const r = uploadRecord(Buffer.from('x'));
    await new RedisUploadStore({ sendCommand: await redis().sendCommand(), prefix }).put(r, Buffer.from('x'));
    expect(JSON.parse((await client.get(`${prefix}${r.id}`)) ?? 'null')).toEqual(r);
    const ttl = await client.pttl(`${prefix}${r.id}`);
    expect(ttl).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600_000);
    const short = uploadRecord(Buffer.from('y'));
    await new RedisUploadStore({ sendCommand: await redis().sendCommand(), prefix, ttlMs: 60_000 }).put(short, Buffer.from('y'));
    expect(await client.pttl(`${prefix}${short.id}`)).toBeLessThanOrEqual(60_000);
  });

  it('something else under an upload key is reported as uploads_unavailable, not passed on as a record', async () => {
    const client = await redis().client();
    const prefix = `${redis().prefix}foreign:`;
    const store = new RedisUploadStore({ sendCommand: await redis().sendCommand(), prefix });
    const r = uploadRecord(Buffer.from('x'));
    for (const value of ['not json', '{"id":"x"}', JSON.stringify({ ...r, size: 'big' }), JSON.stringify({ ...r, id: 'upl_other' })]) {
      await client.set(`${prefix}${r.id}`, value);
      await expect(store.get(r.id)).rejects.toMatchObject({ name: 'UnavailableError', reason: 'uploads_unavailable', message: expect.stringContaining('prefix') });
    }
  });

  it('rejects a bad ttlMs or a missing sendCommand at construction', () => {
    expect(() => new RedisUploadStore({ sendCommand: async () => null, ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => new RedisUploadStore({} as never)).toThrow(/sendCommand/);
  });

  it('connect() to a port nobody listens on rejects with UnavailableError(uploads_unavailable), password masked', async () => {
    const error = await RedisUploadStore.connect('redis://:hunter2@127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ reason: 'uploads_unavailable', message: expect.stringContaining('TOOLGATE_REDIS_URL') });
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('Redis down: put() and get() reject with UnavailableError(uploads_unavailable) within the command timeout', async () => {
    const own = await startRedisServer();
    try {
      const store = await RedisUploadStore.connect(own.url, { commandTimeoutMs: 1000 });
      const r = uploadRecord(Buffer.from('x'));
      await store.put(r, Buffer.from('x'));
      await own.stop();
      const started = Date.now();
      await expect(store.get(r.id)).rejects.toMatchObject({ name: 'UnavailableError', reason: 'uploads_unavailable' });
      await expect(store.put(uploadRecord(Buffer.from('y')), Buffer.from('y'))).rejects.toMatchObject({ reason: 'uploads_unavailable' });
      expect(Date.now() - started).toBeLessThan(4000);
      await store.close();
    } finally {
      await own.stop();
    }
  });
});
