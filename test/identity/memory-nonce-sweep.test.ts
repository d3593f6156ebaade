import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENTRY_OVERHEAD_BYTES, MemoryNonceStore } from '../../src/identity/memory-nonce-store.js';

/** The store as it was before expiry was indexed by second: a sweep walks every entry. The model the store must match. */
class WalkingStore {
  readonly entries = new Map<string, { expiry: number; bytes: number }>();
  bytes = 0;
  nextSweep = 0;
  constructor(readonly maxEntries: number, readonly maxBytes: number, readonly now: () => number) {}
  remember(key: string, ttlMs: number): boolean | 'full' {
    const now = this.now();
    const existing = this.entries.get(key);
    if (existing !== undefined && existing.expiry > now) return false;
    const bytes = Buffer.byteLength(key) + ENTRY_OVERHEAD_BYTES;
    if (now >= this.nextSweep) {
      this.nextSweep = now + 1000;
      for (const [k, e] of this.entries) if (e.expiry <= now) this.delete(k);
    }
    if (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) return 'full';
    this.delete(key);
    this.entries.set(key, { expiry: now + Math.max(1, ttlMs), bytes });
    this.bytes += bytes;
    return true;
  }
  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}

describe('MemoryNonceStore sweep', () => {
  it('answers, reclaims and refuses exactly as a walk over every entry would, at every step', async () => {
    const op = fc.record({ key: fc.integer({ min: 0, max: 12 }), ttl: fc.integer({ min: 0, max: 4000 }), advance: fc.integer({ min: 0, max: 2500 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 120 }), fc.integer({ min: 1, max: 8 }), async (ops, maxEntries) => {
        let now = 1_700_000_000_123;
        const store = new MemoryNonceStore({ maxEntries, maxBytes: 10_000, now: () => now });
        const model = new WalkingStore(maxEntries, 10_000, () => now);
        for (const { key, ttl, advance } of ops) {
          now += advance;
          const expected = model.remember(`agent:n:${key}`, ttl);
          const actual = await store.remember(`agent:n:${key}`, ttl).catch((error: Error) => (error.name === 'NonceStoreFullError' ? 'full' : Promise.reject(error)));
          expect(actual).toBe(expected);
          expect(store.size).toBe(model.entries.size);
          expect(store.bytes).toBe(model.bytes);
        }
      }),
      { numRuns: 400 },
    );
  });
});
