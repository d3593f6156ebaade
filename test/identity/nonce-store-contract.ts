import { describe, expect, it } from 'vitest';
import { NonceStoreFullError, type NonceStore } from '../../src/identity/index.js';

/** Polls until `check` passes or `timeoutMs` runs out: waits for a condition, never for a fixed time. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/** The behaviour every NonceStore must have; run against each implementation. `maxEntries` asks for a capped store. */
export function nonceStoreContract(name: string, open: (limits?: { maxEntries: number }) => Promise<NonceStore>): void {
  describe(`NonceStore contract: ${name}`, () => {
    const makeStore = open;
    const unique = () => `contract:${Math.random().toString(36).slice(2)}:${Date.now()}`;

    it('says true the first time, false after', async () => {
      const store = await makeStore();
      const key = unique();
      expect(await store.remember(key, 60_000)).toBe(true);
      expect(await store.remember(key, 60_000)).toBe(false);
      expect(await store.remember(key, 60_000)).toBe(false);
    });

    it('keeps keys apart, whatever characters they hold', async () => {
      const store = await makeStore();
      const base = unique();
      const keys = [`${base}:a`, `${base}:b`, `${base}: spaced`, `${base}:ünïcode`, `${base}:*?[]`];
      for (const key of keys) expect(await store.remember(key, 60_000)).toBe(true);
      for (const key of keys) expect(await store.remember(key, 60_000)).toBe(false);
    });

    it('forgets a key once its ttl has passed', async () => {
      const store = await makeStore();
      const key = unique();
      expect(await store.remember(key, 40)).toBe(true);
      expect(await store.remember(key, 40)).toBe(false);
      await eventually(async () => expect(await store.remember(key, 60_000)).toBe(true));
    });

    it('of 50 concurrent callers with one key, exactly one is first', async () => {
      const store = await makeStore();
      const key = unique();
      const results = await Promise.all(Array.from({ length: 50 }, () => store.remember(key, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('refuses (fails closed) when full of live entries, and takes new ones once they expire', async () => {
      const store = await makeStore({ maxEntries: 3 });
      const base = unique();
      for (const i of [1, 2, 3]) expect(await store.remember(`${base}:${i}`, 150)).toBe(true);
      await expect(store.remember(`${base}:4`, 60_000)).rejects.toBeInstanceOf(NonceStoreFullError);
      // A replay of a live entry is still recognised as one while full.
      expect(await store.remember(`${base}:1`, 60_000)).toBe(false);
      await eventually(async () => expect(await store.remember(`${base}:4`, 60_000)).toBe(true), 5000);
    });

    it('accepts fractional and tiny ttls', async () => {
      const store = await makeStore();
      expect(await store.remember(unique(), 0.5)).toBe(true);
      expect(await store.remember(unique(), 1234.7)).toBe(true);
    });
  });
}
