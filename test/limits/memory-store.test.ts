import fc from 'fast-check';
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

  it('a release of a reservation that already aged out gives nothing back', async () => {
    const s = new MemoryLimitStore();
    const old = reserved(await s.reserve([rate('k', 2, 60)], 'old', T0));
    reserved(await s.reserve([rate('k', 2, 60)], 'a', T0 + 30_000));
    reserved(await s.reserve([rate('k', 2, 60)], 'b', T0 + 61_000)); // ages `old` out of the window; a and b fill it
    await s.release(old);
    refused(await s.reserve([rate('k', 2, 60)], 'c', T0 + 61_000)); // old's release freed nothing
    reserved(await s.reserve([rate('k', 2, 60)], 'd', T0 + 90_001)); // a ages out
  });

  it('keeps the same count as a plain list of live calls through thousands of calls, releases and ageing out', async () => {
    // Long enough runs that aged-out entries pile up past the point where they are cut off the array (1,024).
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ gapMs: fc.nat({ max: 40 }), release: fc.nat({ max: 9 }) }), { minLength: 3_000, maxLength: 5_000 }),
        async (steps) => {
          const s = new MemoryLimitStore();
          const limit = rate('k', 700, 20); // 20 s window; about 1,000 calls in it at these gaps
          const model: { id: string; ts: number }[] = [];
          const held: { id: string; reservation: Parameters<MemoryLimitStore['release']>[0] }[] = [];
          let now = T0;
          for (const [i, step] of steps.entries()) {
            now += step.gapMs;
            const alive = model.filter((m) => m.ts > now - 20_000);
            const result = await s.reserve([limit], `r${i}`, now);
            expect(result.ok, `call ${i}`).toBe(alive.length + 1 <= 700);
            if (result.ok) {
              model.push({ id: `r${i}`, ts: now });
              held.push({ id: `r${i}`, reservation: result.reservation });
            }
            // Now and then release one of the calls held (live or aged out): only a live one frees room.
            if (step.release === 0 && held.length > 0) {
              const { id, reservation } = held.splice(Math.floor(held.length / 2), 1)[0]!;
              await s.release(reservation);
              const at = model.findIndex((m) => m.id === id);
              if (at >= 0) model.splice(at, 1);
            }
          }
        },
      ),
      { numRuns: 5, endOnFailure: true }, // shrinking 5,000-step runs would take minutes
    );
  });

  it('a call against a counter holding many live entries costs the same as against a few', async () => {
    // A 60 s window at 1,000 calls/s holds 60,000 entries; each call ages one out. Moving every live entry on each
    // call made a call's cost grow with the window (200,000 entries: a 1.6 MB move per call).
    const cpuPerCall = async (live: number): Promise<number> => {
      const s = new MemoryLimitStore({ maxEntries: 1_000_000 });
      const limit = rate('busy', 1e9, 600);
      for (let i = 0; i < live; i++) reserved(await s.reserve([limit], `warm${i}`, T0 + i));
      // The median of ten batches: a garbage collection (the 200,000 entries are garbage-collected objects) lands in
      // one batch, not in the reading.
      const batches: number[] = [];
      for (let b = 0; b < 10; b++) {
        const before = process.cpuUsage();
        for (let i = b * 200; i < (b + 1) * 200; i++) reserved(await s.reserve([limit], `r${i}`, T0 + 600_000 + i));
        const used = process.cpuUsage(before);
        batches.push((used.user + used.system) / 200);
      }
      return batches.sort((a, b) => a - b)[5]!;
    };
    const few = await cpuPerCall(2_000);
    const many = await cpuPerCall(200_000);
    // Generous for a loaded machine; before the change `many` was about 100x `few`.
    expect(many).toBeLessThan(Math.max(20, few * 5));
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
