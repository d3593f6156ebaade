import { describe, expect, it } from 'vitest';
import { ConfigError, UnavailableError } from '../../src/errors.js';
import { createLimitStore, MemoryLimitStore } from '../../src/limits/index.js';
import { budget, limitStoreContract, rate, refused, reserved, T0 } from './contract.js';

limitStoreContract('memory', () => ({ create: async () => new MemoryLimitStore() }));

describe('MemoryLimitStore bounds', () => {
  it('evicts counters whose entries all aged out', async () => {
    const s = new MemoryLimitStore();
    for (let i = 0; i < 50; i++) reserved(await s.reserve([rate(`k${i}`, 1, 60)], `r${i}`, T0));
    expect(s.size).toBe(50);
    reserved(await s.reserve([rate('late', 1, 60)], 'late', T0 + 61_000));
    expect(s.size).toBe(1);
  });

  it('a released counter leaves no empty key behind', async () => {
    const s = new MemoryLimitStore();
    const r = reserved(await s.reserve([rate('a', 1), budget('b', 10, 5)], 'r', T0));
    expect(s.size).toBe(2);
    await s.release(r);
    expect(s.size).toBe(0);
  });

  it('a refused request leaves no aged-out counter behind and adds none', async () => {
    const s = new MemoryLimitStore();
    reserved(await s.reserve([rate('a', 1, 60)], 'r1', T0));
    reserved(await s.reserve([rate('b', 1, 60)], 'r2', T0 + 30_000));
    refused(await s.reserve([rate('a', 1, 60), rate('c', 1, 60), rate('b', 1, 60)], 'r3', T0 + 61_000));
    expect(s.size).toBe(1);
  });

  it('zero-cost obligations are checked but not stored', async () => {
    const s = new MemoryLimitStore();
    reserved(await s.reserve([budget('b', 10, 0)], 'r', T0));
    expect(s.size).toBe(0);
  });

  it('past maxKeys live counters, reserve() fails closed with a clear UnavailableError', async () => {
    const s = new MemoryLimitStore({ maxKeys: 3 });
    for (let i = 0; i < 3; i++) reserved(await s.reserve([rate(`k${i}`, 1, 60)], `r${i}`, T0));
    const error = await s.reserve([rate('k3', 1, 60)], 'r3', T0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ reason: 'limits_unavailable', message: expect.stringMatching(/maxKeys.*TOOLGATE_REDIS_URL/) });
    // Existing counters keep working, and once the old ones age out there is room again.
    refused(await s.reserve([rate('k0', 1, 60)], 'r4', T0));
    reserved(await s.reserve([rate('k3', 1, 60)], 'r5', T0 + 60_000));
  });

  it('past maxEntries live entries, reserve() fails closed', async () => {
    const s = new MemoryLimitStore({ maxEntries: 5 });
    for (let i = 0; i < 5; i++) reserved(await s.reserve([rate('k', 100, 60)], `r${i}`, T0));
    await expect(s.reserve([rate('k', 100, 60)], 'r5', T0)).rejects.toMatchObject({ reason: 'limits_unavailable' });
  });

  it.each([{ maxKeys: 0 }, { maxKeys: 1.5 }, { maxEntries: -1 }])('rejects bad option %o with ConfigError', (options) => {
    expect(() => new MemoryLimitStore(options)).toThrow(ConfigError);
  });

  it('rejects caller bugs (no id, bad clock) as TypeError, not a silent reservation', async () => {
    const s = new MemoryLimitStore();
    await expect(s.reserve([rate('k', 1)], '', T0)).rejects.toThrow(TypeError);
    await expect(s.reserve([rate('k', 1)], 'r', Number.NaN)).rejects.toThrow(TypeError);
  });
});

describe('createLimitStore without Redis', () => {
  it('returns a memory store when redisUrl is unset or empty', async () => {
    expect(await createLimitStore()).toBeInstanceOf(MemoryLimitStore);
    expect(await createLimitStore({ redisUrl: '' })).toBeInstanceOf(MemoryLimitStore);
  });

  it.each([
    [{ redisURL: 'redis://x' }, 'limits_option_unknown'],
    [{ redisUrl: 'localhost:6379' }, 'redis_url_invalid'],
    [{ prefix: '' }, 'limits_option_invalid'],
    [{ commandTimeoutMs: 0 }, 'limits_option_invalid'],
  ])('rejects %o with ConfigError %s', async (options, reason) => {
    await expect(createLimitStore(options as never)).rejects.toMatchObject({ name: 'ConfigError', reason });
  });
});
