import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { LimitObligation, LimitStore, ReserveResult } from '../../src/limits/index.js';

/** How the contract gets stores of one implementation. */
export interface StoreHarness {
  /** A fresh store; `prefix` is unique per test, so tests sharing one backend never see each other's counters. */
  create(prefix: string): Promise<LimitStore>;
  /**
   * A second store on its own connection to the same backend and prefix: a second gateway instance.
   * Omitted for backends that cannot be shared between instances (memory).
   */
  createPeer?(prefix: string): Promise<LimitStore>;
}

export const T0 = 1_750_000_000_000;
const S = 1000;

export function rate(key: string, max: number, window_s = 60): LimitObligation {
  return { key, kind: 'rate', window_s, max, cost: 1 };
}
export function budget(key: string, max: number, cost: number, window_s = 86_400): LimitObligation {
  return { key, kind: 'budget', window_s, max, cost };
}
export function cooldown(key: string, window_s: number): LimitObligation {
  return { key, kind: 'cooldown', window_s, max: 1, cost: 1 };
}

export function refused(result: ReserveResult): Extract<ReserveResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a refusal, got reservation ${result.reservation.id}`);
  return result;
}
export function reserved(result: ReserveResult): Extract<ReserveResult, { ok: true }>['reservation'] {
  if (!result.ok) throw new Error(`expected a reservation, got a refusal: ${JSON.stringify(result)}`);
  return result.reservation;
}

/**
 * The behaviour every LimitStore must have, registered as `describe` blocks. `harness` is read when a test runs,
 * so a backend started in `beforeAll` can hand it over late. `shared`: the backend is shared between instances
 * (the harness has createPeer), which adds the two-gateway test.
 */
export function limitStoreContract(name: string, harness: () => StoreHarness, options: { readonly shared?: boolean } = {}): void {
  describe(`LimitStore contract: ${name}`, () => {
    const open: LimitStore[] = [];
    let seq = 0;
    const id = (): string => `r${++seq}-${randomUUID()}`;
    const prefix = (): string => `toolgate:test:limit:${randomUUID()}:`;
    const store = async (p = prefix()): Promise<LimitStore> => {
      const s = await harness().create(p);
      open.push(s);
      return s;
    };
    const peer = async (p: string): Promise<LimitStore> => {
      const h = harness();
      if (!h.createPeer) throw new Error('this harness has no peer stores');
      const s = await h.createPeer(p);
      open.push(s);
      return s;
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close?.()));
    });

    it('rate: allows max calls, then refuses with the seconds until the oldest call ages out', async () => {
      const s = await store();
      const limit = rate('agent:receipts-bot:email.send', 5, 60);
      for (let i = 0; i < 5; i++) reserved(await s.reserve([limit], id(), T0 + i * S));
      const r = refused(await s.reserve([limit], id(), T0 + 10 * S));
      expect(r).toEqual({ ok: false, key: limit.key, kind: 'rate', cause: 'limit', retryAfterS: 50, max: 5, used: 5 });
      // Retry-After is honest: waiting exactly that long is enough.
      reserved(await s.reserve([limit], id(), T0 + 10 * S + r.retryAfterS * S));
    });

    it('window slides: an entry counts for window_s after it was taken, then ages out', async () => {
      const s = await store();
      const limit = rate('k', 2, 60);
      reserved(await s.reserve([limit], id(), T0));
      reserved(await s.reserve([limit], id(), T0 + 30 * S));
      expect(refused(await s.reserve([limit], id(), T0 + 60 * S - 1)).retryAfterS).toBe(1);
      reserved(await s.reserve([limit], id(), T0 + 60 * S));
      const r = refused(await s.reserve([limit], id(), T0 + 60 * S));
      expect(r.retryAfterS).toBe(30);
      expect(r.used).toBe(2);
      reserved(await s.reserve([limit], id(), T0 + 200 * S));
    });

    it('budget: sums costs within the window; a request that fits exactly is allowed', async () => {
      const s = await store();
      const key = 'agent:trader:trade.place:notional';
      reserved(await s.reserve([budget(key, 1000, 400)], id(), T0));
      reserved(await s.reserve([budget(key, 1000, 500)], id(), T0 + 3600 * S));
      const r = refused(await s.reserve([budget(key, 1000, 200)], id(), T0 + 7200 * S));
      expect(r).toMatchObject({ key, kind: 'budget', cause: 'limit', max: 1000, used: 900 });
      // Only the 400 has to age out (at T0 + 1 day) for 500 + 200 to fit.
      expect(r.retryAfterS).toBe(86_400 - 7200);
      reserved(await s.reserve([budget(key, 1000, 100)], id(), T0 + 7200 * S));
      expect(refused(await s.reserve([budget(key, 1000, 0.01)], id(), T0 + 7200 * S)).used).toBe(1000);
    });

    it('budget: decimal amounts that add up to max exactly are not refused by float rounding', async () => {
      const s = await store();
      reserved(await s.reserve([budget('usd', 0.3, 0.1)], id(), T0));
      reserved(await s.reserve([budget('usd', 0.3, 0.2)], id(), T0));
      expect(refused(await s.reserve([budget('usd', 0.3, 0.01)], id(), T0)).cause).toBe('limit');
    });

    it('cooldown: one call per window, i.e. a minimum gap between calls', async () => {
      const s = await store();
      const limit = cooldown('agent:ops-bot:deploy.prod', 30);
      reserved(await s.reserve([limit], id(), T0));
      expect(refused(await s.reserve([limit], id(), T0 + 10 * S))).toMatchObject({ kind: 'cooldown', retryAfterS: 20, max: 1, used: 1 });
      reserved(await s.reserve([limit], id(), T0 + 30 * S));
    });

    it.each([
      ['cost > max', budget('b', 100, 101, 3600), 'cost_exceeds_max', 3600],
      ['NaN cost', budget('b', 100, Number.NaN, 3600), 'invalid_obligation', 3600],
      ['infinite cost', budget('b', 100, Number.POSITIVE_INFINITY, 3600), 'invalid_obligation', 3600],
      ['negative cost', budget('b', 100, -5, 3600), 'invalid_obligation', 3600],
      ['zero window', { ...rate('b', 10), window_s: 0 }, 'invalid_obligation', 1],
      ['unknown kind', { ...rate('b', 10, 3600), kind: 'quota' as 'rate' }, 'invalid_obligation', 3600],
    ])('%s is a clear refusal, not a crash, and records nothing', async (_name, bad, cause, retryAfterS) => {
      const s = await store();
      const ok = budget('b', 100, 100, 3600);
      const r = refused(await s.reserve([ok, bad as LimitObligation], id(), T0));
      expect(r).toMatchObject({ cause, retryAfterS, used: 0 });
      reserved(await s.reserve([ok], id(), T0));
    });

    it('multi-key: all or nothing — when the second limit refuses, the first gets nothing', async () => {
      const s = await store();
      const perAgent = rate('agent:a:email.send', 5);
      const perTool = rate('tool:email.send', 1);
      reserved(await s.reserve([perTool], id(), T0));
      const r = refused(await s.reserve([perAgent, perTool], id(), T0 + S));
      expect(r).toMatchObject({ key: 'tool:email.send', used: 1, max: 1 });
      for (let i = 0; i < 5; i++) reserved(await s.reserve([perAgent], id(), T0 + 2 * S));
      expect(refused(await s.reserve([perAgent], id(), T0 + 2 * S)).used).toBe(5);
    });

    it('multi-key: refuses with the first failing limit in the order given', async () => {
      const s = await store();
      const a = rate('a', 1);
      const b = rate('b', 1);
      reserved(await s.reserve([a, b], id(), T0));
      expect(refused(await s.reserve([b, a], id(), T0)).key).toBe('b');
      expect(refused(await s.reserve([a, b], id(), T0)).key).toBe('a');
    });

    it('the same limit twice in one request counts twice', async () => {
      const s = await store();
      const r = refused(await s.reserve([budget('k', 3, 2), budget('k', 3, 2)], id(), T0));
      expect(r).toMatchObject({ used: 2, retryAfterS: 86_400 });
      reserved(await s.reserve([budget('k', 3, 1), budget('k', 3, 2)], id(), T0));
      expect(refused(await s.reserve([budget('k', 3, 0.5)], id(), T0)).used).toBe(3);
    });

    it('a rate and a budget on the same key are separate counters', async () => {
      const s = await store();
      reserved(await s.reserve([rate('agent:t:trade', 10), budget('agent:t:trade', 10_000, 9000)], id(), T0));
      reserved(await s.reserve([rate('agent:t:trade', 10)], id(), T0));
      expect(refused(await s.reserve([budget('agent:t:trade', 10_000, 1001)], id(), T0)).used).toBe(9000);
    });

    it('release gives the quota back (a failed tool call), once', async () => {
      const s = await store();
      const limit = rate('k', 2);
      const first = reserved(await s.reserve([limit], id(), T0));
      reserved(await s.reserve([limit], id(), T0 + S));
      refused(await s.reserve([limit], id(), T0 + 2 * S));
      await s.release(first);
      reserved(await s.reserve([limit], id(), T0 + 3 * S));
      await s.release(first);
      expect(refused(await s.reserve([limit], id(), T0 + 4 * S)).used).toBe(2);
    });

    it('release of a multi-limit reservation frees every limit', async () => {
      const s = await store();
      const limits = [rate('a', 1), budget('b', 100, 100), cooldown('c', 60)];
      const r = reserved(await s.reserve(limits, id(), T0));
      refused(await s.reserve(limits, id(), T0));
      await s.release(r);
      reserved(await s.reserve(limits, id(), T0));
    });

    it('settle keeps the entries until they age out', async () => {
      const s = await store();
      const limit = rate('k', 1, 60);
      const r = reserved(await s.reserve([limit], id(), T0));
      await s.settle(r);
      expect(refused(await s.reserve([limit], id(), T0 + 59 * S)).retryAfterS).toBe(1);
      reserved(await s.reserve([limit], id(), T0 + 60 * S));
    });

    it('the running sum stays exact as hundreds of entries are released and age out', async () => {
      const s = await store();
      const limit = (cost: number): LimitObligation => budget('k', 1e6, cost, 600);
      const taken = [];
      for (let i = 0; i < 300; i++) taken.push(reserved(await s.reserve([limit(2.5)], id(), T0 + i * S)));
      for (let i = 0; i < 300; i += 3) await s.release(taken[i] as (typeof taken)[number]);
      // At T0 + 750 s the entries taken up to T0 + 150 s have aged out: i = 151..299 minus the released
      // multiples of 3 leaves 100 entries of 2.5. A request costing max fits only once the last (i = 299) is gone.
      const r = refused(await s.reserve([limit(1e6)], id(), T0 + 750 * S));
      expect(r.used).toBeCloseTo(250, 9);
      expect(r.retryAfterS).toBe(299 + 600 - 750);
      reserved(await s.reserve([limit(1e6)], id(), T0 + 900 * S));
    });

    it('no limits: always reserved', async () => {
      const s = await store();
      const r = reserved(await s.reserve([], id(), T0));
      expect(r.limits).toEqual([]);
      await s.release(r);
      await s.settle(r);
    });

    it('concurrency: of 100 concurrent reserve() calls against a limit of 10, exactly 10 succeed', async () => {
      const s = await store();
      const limit = rate('agent:swarm:email.send', 10, 3600);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.reserve([limit], id(), T0 + (i % 7))));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      for (const r of results.filter((x) => !x.ok)) expect(refused(r)).toMatchObject({ cause: 'limit', used: 10, max: 10 });
    });

    it('concurrency: multi-limit reservations stay all-or-nothing under contention', async () => {
      const s = await store();
      const shared = rate('shared', 10, 3600);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => s.reserve(i % 2 === 0 ? [rate(`own-${i}`, 1, 3600), shared] : [shared, rate(`own-${i}`, 1, 3600)], id(), T0)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      // A refused request left nothing on its own key.
      for (let i = 0; i < 100; i++) {
        if (!results[i]?.ok) reserved(await s.reserve([rate(`own-${i}`, 1, 3600)], id(), T0));
      }
    });

    // Only backends several gateway instances can share (the harness provides createPeer).
    if (options.shared) it('concurrency: two store instances (two gateways) share one limit; either can release', async () => {
      const p = prefix();
      const [a, b] = [await store(p), await peer(p)];
      const limit = rate('agent:swarm:email.send', 10, 3600);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).reserve([limit], id(), T0 + i)));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      const taken = results.find((r) => r.ok);
      await b.release(reserved(taken as ReserveResult));
      reserved(await a.reserve([limit], id(), T0 + 200));
      refused(await b.reserve([limit], id(), T0 + 200));
    });
  });
}
