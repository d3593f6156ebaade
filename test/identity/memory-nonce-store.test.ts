import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryNonceStore, SLOT_BYTES } from '../../src/identity/memory-nonce-store.js';

type Answer = boolean | 'full';

const answer = (store: MemoryNonceStore, key: string, ttl: number): Promise<Answer> =>
  store.remember(key, ttl).catch((error: Error) => (error.name === 'NonceStoreFullError' ? 'full' : Promise.reject(error)));

describe('MemoryNonceStore against a model (a Map of key -> expiry)', () => {
  it('answers first / replay exactly as the model, refuses only with a second of live entries behind it, and never holds more live entries than allowed', async () => {
    const op = fc.record({ key: fc.integer({ min: 0, max: 40 }), ttl: fc.integer({ min: 0, max: 4000 }), advance: fc.integer({ min: 0, max: 1500 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 250 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(8, 16, 64), fc.constantFrom(0, 1, 16), async (ops, maxEntries, maxSlots, reclaimPerCall) => {
        let now = 1_700_000_000_123;
        // reclaimPerCall 0 and 1 leave expired entries on the chains, where inserts must reuse them and lookups pass them.
        const store = new MemoryNonceStore({ maxEntries, maxBytes: maxSlots * SLOT_BYTES, initialSlots: 8, reclaimPerCall, now: () => now });
        // The most entries the table can hold: maxEntries, or three quarters of its largest size.
        const cap = Math.min(maxEntries, Math.floor(maxSlots * 0.75));
        const model = new Map<string, number>();
        const liveAfter = (t: number) => [...model.values()].filter((expiry) => expiry > t).length;
        for (const { key, ttl, advance } of ops) {
          now += advance;
          const k = `agent:n:${key}`;
          const actual = await answer(store, k, ttl);
          const held = model.get(k);
          if (held !== undefined && held > now) {
            expect(actual).toBe(false); // a live nonce is a replay, full or not
            continue;
          }
          if (actual === 'full') {
            // Justified: at least `cap` entries were live within the last second (a compaction runs at most once a second).
            expect(liveAfter(now - 1000)).toBeGreaterThanOrEqual(cap);
            continue;
          }
          expect(actual).toBe(true);
          model.set(k, now + Math.max(1, ttl));
          expect(liveAfter(now)).toBeLessThanOrEqual(cap);
          expect(store.bytes).toBeLessThanOrEqual(maxSlots * SLOT_BYTES);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps thousands of keys through growth, collisions and reclaims, then forgets each once expired', async () => {
    let now = 1_000_000;
    const store = new MemoryNonceStore({ initialSlots: 8, now: () => now });
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
    for (const [i, key] of keys.entries()) expect(await store.remember(key, 1000 + (i % 7) * 100)).toBe(true);
    for (const key of keys) expect(await store.remember(key, 1000)).toBe(false);
    now += 1700; // every one has expired
    for (const key of keys) expect(await store.remember(key, 1000)).toBe(true);
    expect(store.size).toBe(5000);
  });
});

describe('MemoryNonceStore memory', () => {
  it('costs SLOT_BYTES an entry whatever the key: keys of 3,000 characters fill the table no faster than short ones', async () => {
    const now = 0;
    const store = new MemoryNonceStore({ maxEntries: 1000, maxBytes: 8 * SLOT_BYTES, initialSlots: 8, now: () => now });
    for (const i of [1, 2, 3, 4, 5, 6]) expect(await store.remember(`${i}:${'x'.repeat(3000)}`, 1000)).toBe(true);
    expect(store.bytes).toBe(8 * SLOT_BYTES);
    await expect(store.remember('short', 1000)).rejects.toThrow(/full.*table of 160 bytes of at most 160/);
  });

  it('holds a window of 300,000 nonces in 20 MiB, and a steady rate over six windows neither grows the table nor lets expired entries pile up', async () => {
    let now = 1_000_000;
    const store = new MemoryNonceStore({ now: () => now });
    const perMs = 1; // 1,000 calls a second, each kept 300 s
    const window = 300_000;
    let i = 0;
    const sizes: number[] = [];
    const bytes: number[] = [];
    for (let w = 0; w < 6; w += 1) {
      for (let t = 0; t < window; t += 1) {
        now += 1 / perMs;
        await store.remember(`agent:n:${i++}`, window);
      }
      sizes.push(store.size);
      bytes.push(store.bytes);
    }
    expect(bytes[0]).toBeLessThanOrEqual(2 ** 20 * SLOT_BYTES);
    expect(new Set(bytes.slice(1)).size).toBe(1); // no growth after the first window
    // Live: 300,000; the reclaim cursor walks the table every 65,536 calls, so fewer than that linger.
    for (const size of sizes.slice(1)) expect(size).toBeLessThan(window + 2 ** 20 / 16);
  }, 60_000);
});

describe('MemoryNonceStore hostile keys and floods', () => {
  it('keeps apart keys that UTF-8 would merge: lone surrogates, U+FFFD, and the JSON spelling of a key', async () => {
    const store = new MemoryNonceStore();
    const keys = ['a\uD800', 'a\uDC00', 'a\uFFFD', 'a\uD800\uDC00', JSON.stringify('a\uD800'), 'j"a\\ud800"', ''];
    for (const key of keys) expect(await store.remember(key, 60_000)).toBe(true);
    for (const key of keys) expect(await store.remember(key, 60_000)).toBe(false);
  });

  it('a flood of new nonces into a store full of live ones is refused at O(1) a call (a compaction at most once a second)', async () => {
    const now = 5_000;
    const store = new MemoryNonceStore({ maxEntries: 40_000, initialSlots: 8, now: () => now });
    for (let i = 0; i < 40_000; i += 1) await store.remember(`live:${i}`, 600_000);
    const started = process.cpuUsage();
    let refused = 0;
    for (let i = 0; i < 20_000; i += 1) if ((await answer(store, `flood:${i}`, 600_000)) === 'full') refused += 1;
    const used = process.cpuUsage(started);
    expect(refused).toBe(20_000);
    // About 10 us a refusal (the hash, the lookup, the error); a walk of the 65,536-slot table on every call took
    // 2.7 ms a refusal. The bound leaves room for a loaded machine.
    expect((used.user + used.system) / 20_000).toBeLessThan(200);
  });

  it('refuses bad options and a NaN ttl with what to fix', async () => {
    expect(() => new MemoryNonceStore({ maxEntries: 0 })).toThrow(/maxEntries must be a positive integer/);
    expect(() => new MemoryNonceStore({ initialSlots: 12 })).toThrow(/initialSlots must be a power of two/);
    expect(() => new MemoryNonceStore({ maxBytes: 100 })).toThrow(/maxBytes 100 is under one table of 4096 slots/);
    await expect(new MemoryNonceStore().remember('k', Number.NaN)).rejects.toThrow(/ttlMs is NaN/);
  });
});

describe('MemoryNonceStore fill level (what /readyz reports)', () => {
  it('counts the nonces it holds and the table they take, against its limits, until they are reclaimed', async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryNonceStore({ maxEntries: 100, maxBytes: 64 * SLOT_BYTES, initialSlots: 8, now: () => now });
    expect(store.stats()).toEqual({ entries: 0, maxEntries: 100, bytes: 8 * SLOT_BYTES, maxBytes: 64 * SLOT_BYTES });
    for (let i = 0; i < 20; i++) expect(await store.remember(`k${i}`, 1000)).toBe(true);
    const held = store.stats();
    expect(held.entries).toBe(20);
    expect(held.bytes).toBeGreaterThanOrEqual(Math.ceil(20 / 0.75) * SLOT_BYTES); // grown to keep its load under 3/4
    expect(held.bytes).toBeLessThanOrEqual(held.maxBytes);
    expect(await store.remember('k3', 1000)).toBe(false); // a replay adds nothing
    expect(store.stats().entries).toBe(20);
    now += 5000; // all expired: new inserts and the reclaim cursor take them back
    for (let i = 0; i < 64; i++) await store.remember(`later${i % 4}`, 1000);
    expect(store.stats().entries).toBeLessThan(20);
  });
});
