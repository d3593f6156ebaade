import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalBinding, lookupApproval, newApprovalRecord, type ApprovalRecord, type ApprovalStore, type NewApproval } from '../../src/approvals/index.js';

export const T0 = 1_750_000_000_000;
const TTL_S = 900;
const EXPIRES = T0 + TTL_S * 1000;

const ARGS = { account: 'ACME-1', amount: 50_000, currency: 'EUR', memo: 'Q3 invoice / "rush"' };

export function pending(over: Partial<NewApproval> = {}): ApprovalRecord {
  return newApprovalRecord({
    agent: 'trader-bot',
    tool: 'trade.place',
    args: ARGS,
    reasons: [{ code: 'amount_over_limit', message: 'Trades over 10 000 EUR need a human approval.' }],
    decisionId: 'dec-create',
    ttlS: TTL_S,
    nowMs: T0,
    ...over,
  });
}

const binding = approvalBinding('trader-bot', 'trade.place', ARGS);

/**
 * What every ApprovalStore must do, run against each implementation (memory, real Redis). Times are injected
 * (nowMs), never slept.
 */
export function approvalStoreContract(name: string, setup: () => Promise<{ store: ApprovalStore; teardown?: () => Promise<void> }>): void {
  describe(`ApprovalStore contract: ${name}`, () => {
    let store: ApprovalStore;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ store, teardown } = await setup());
    });
    afterAll(async () => {
      await store?.close?.();
      await teardown?.();
    });

    async function created(over: Partial<NewApproval> = {}): Promise<ApprovalRecord> {
      const record = pending(over);
      await store.create(record);
      return record;
    }

    it('creates and gets a record unchanged', async () => {
      const record = await created({ summary: '{"amount":50000,"memo":"Ünïcødé / \\"quoted\\" 💸"}' });
      expect(await store.get(record.id)).toEqual(record);
      expect(await store.get('apr_doesnotexist')).toBeNull();
      expect(record).toMatchObject({ status: 'pending', agent: 'trader-bot', tool: 'trade.place', binding, expires_at: new Date(EXPIRES).toISOString() });
    });

    it('keeps empty reasons and odd text intact through a decision', async () => {
      const record = await created({ reasons: [], summary: 'lone \ud800 surrogate' });
      const decided = await store.decide(record.id, 'finance-lead', 'approve', T0 + 1, 'ok / "fine" ✓');
      expect(decided.ok).toBe(true);
      const got = await store.get(record.id);
      expect(got?.reasons).toEqual([]);
      expect(got?.summary).toBe('lone \ufffd surrogate');
      expect(got?.comment).toBe('ok / "fine" ✓');
    });

    it('refuses a duplicate id', async () => {
      const record = await created();
      await expect(store.create(record)).rejects.toThrow(/already exists/);
    });

    it('lists pending approvals newest first, with a limit, and by status', async () => {
      const base = T0 + 10_000_000; // its own time range: other tests' records have expired by then
      const a = await created({ nowMs: base });
      const b = await created({ nowMs: base + 1000 });
      const c = await created({ nowMs: base + 2000 });
      const now = base + 3000;
      const listed = await store.list({ nowMs: now });
      expect(listed.map((r) => r.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.list({ nowMs: now, limit: 2 })).map((r) => r.id)).toEqual([c.id, b.id]);
      await store.decide(b.id, 'finance-lead', 'approve', now);
      expect((await store.list({ nowMs: now })).map((r) => r.id)).toEqual([c.id, a.id]);
      expect((await store.list({ status: 'approved', nowMs: now })).map((r) => r.id)).toContain(b.id);
      // Past expiry nothing is pending; all three count as expired.
      const later = base + 2000 + TTL_S * 1000;
      expect(await store.list({ nowMs: later })).toEqual([]);
      expect((await store.list({ status: 'expired', nowMs: later })).map((r) => r.id)).toEqual(expect.arrayContaining([a.id, b.id, c.id]));
    });

    it('lets an approver approve, once', async () => {
      const record = await created();
      const result = await store.decide(record.id, 'finance-lead', 'approve', T0 + 5000, 'checked with the desk');
      expect(result).toEqual({
        ok: true,
        record: { ...record, status: 'approved', decided_by: 'finance-lead', decided_at: new Date(T0 + 5000).toISOString(), comment: 'checked with the desk' },
      });
      expect(await store.get(record.id)).toEqual(result.ok && result.record);
      expect(await lookupApproval(store, record.id, binding, T0 + 6000)).toEqual({ id: record.id, status: 'approved', approved_by: 'finance-lead' });
      const again = await store.decide(record.id, 'risk-lead', 'deny', T0 + 7000);
      expect(again).toMatchObject({ ok: false, reason: 'approval_not_pending', record: { status: 'approved' } });
    });

    it('refuses self-approval and leaves the approval pending', async () => {
      const record = await created();
      expect(await store.decide(record.id, 'trader-bot', 'approve', T0 + 1)).toMatchObject({ ok: false, reason: 'approver_is_requester' });
      expect((await store.get(record.id))?.status).toBe('pending');
      expect(await lookupApproval(store, record.id, binding, T0 + 2)).toEqual({ id: record.id, status: 'pending' });
    });

    it('denies', async () => {
      const record = await created();
      expect(await store.decide(record.id, 'finance-lead', 'deny', T0 + 1)).toMatchObject({ ok: true, record: { status: 'denied', decided_by: 'finance-lead' } });
      expect(await lookupApproval(store, record.id, binding, T0 + 2)).toEqual({ id: record.id, status: 'denied' });
      expect(await store.consume(record.id, binding, T0 + 3, 'dec-use')).toEqual({ id: record.id, status: 'denied' });
    });

    it('answers unknown ids', async () => {
      expect(await store.decide('apr_nope', 'finance-lead', 'approve', T0)).toEqual({ ok: false, reason: 'approval_unknown', record: null });
      expect(await store.consume('apr_nope', binding, T0, 'dec')).toEqual({ id: 'apr_nope', status: 'unknown' });
      expect(await lookupApproval(store, 'apr_nope', binding, T0)).toEqual({ id: 'apr_nope', status: 'unknown' });
      expect(await lookupApproval(store, 'x'.repeat(100_000), binding, T0)).toMatchObject({ status: 'unknown' });
      expect(await lookupApproval(store, '../../etc/passwd', binding, T0)).toMatchObject({ status: 'unknown' });
    });

    it('expires: a pending approval cannot be decided after expires_at', async () => {
      const record = await created();
      expect(await lookupApproval(store, record.id, binding, EXPIRES - 1)).toMatchObject({ status: 'pending' });
      expect(await lookupApproval(store, record.id, binding, EXPIRES)).toMatchObject({ status: 'expired' });
      expect(await store.decide(record.id, 'finance-lead', 'approve', EXPIRES)).toMatchObject({ ok: false, reason: 'approval_expired' });
      expect((await store.get(record.id))?.status).toBe('expired');
      expect(await store.decide(record.id, 'finance-lead', 'approve', EXPIRES - 1)).toMatchObject({ ok: false, reason: 'approval_expired' });
    });

    it('expires: an approved approval cannot be used after expires_at', async () => {
      const record = await created();
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 1);
      expect(await store.consume(record.id, binding, EXPIRES, 'dec-late')).toEqual({ id: record.id, status: 'expired' });
      expect(await store.consume(record.id, binding, EXPIRES - 1, 'dec-early')).toEqual({ id: record.id, status: 'expired' });
    });

    it('consumes once; the second use sees "used"', async () => {
      const record = await created();
      expect(await store.consume(record.id, binding, T0 + 1, 'dec-early')).toEqual({ id: record.id, status: 'pending' });
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 2);
      expect(await store.consume(record.id, binding, T0 + 3, 'dec-use')).toEqual({ id: record.id, status: 'approved', approved_by: 'finance-lead' });
      expect(await store.consume(record.id, binding, T0 + 4, 'dec-again')).toEqual({ id: record.id, status: 'used', approved_by: 'finance-lead' });
      expect(await store.get(record.id)).toMatchObject({ status: 'used', used_at: new Date(T0 + 3).toISOString(), used_by_decision: 'dec-use' });
      expect(await lookupApproval(store, record.id, binding, T0 + 5)).toMatchObject({ status: 'used' });
    });

    it('restores a spent approval only for the call that spent it, once', async () => {
      const record = await created();
      expect(await store.restore(record.id, 'dec-x')).toBe(false); // pending: nothing to give back
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 2);
      expect(await store.consume(record.id, binding, T0 + 3, 'dec-use')).toMatchObject({ status: 'approved' });
      expect(await store.restore(record.id, 'dec-other')).toBe(false);
      expect(await store.get(record.id)).toMatchObject({ status: 'used' });
      expect(await store.restore(record.id, 'dec-use')).toBe(true);
      expect(await store.restore(record.id, 'dec-use')).toBe(false);
      const back = await store.get(record.id);
      expect(back).toMatchObject({ status: 'approved', decided_by: 'finance-lead' });
      expect(back).not.toHaveProperty('used_by_decision');
      expect(await store.consume(record.id, binding, T0 + 4, 'dec-retry')).toEqual({ id: record.id, status: 'approved', approved_by: 'finance-lead' });
      expect(await store.restore('apr_nope', 'dec-use')).toBe(false);
      expect(await store.restore('../../etc', 'dec-use')).toBe(false);
    });

    it('does not spend an approval on another call (mismatch)', async () => {
      const record = await created();
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 1);
      const others = [
        approvalBinding('trader-bot', 'trade.place', { ...ARGS, amount: 500_000 }),
        approvalBinding('trader-bot', 'trade.cancel', ARGS),
        approvalBinding('other-bot', 'trade.place', ARGS),
      ];
      for (const other of others) {
        expect(await store.consume(record.id, other, T0 + 2, 'dec-other')).toEqual({ id: record.id, status: 'mismatch' });
        expect(await lookupApproval(store, record.id, other, T0 + 2)).toEqual({ id: record.id, status: 'mismatch' });
      }
      expect((await store.get(record.id))?.status).toBe('approved');
      // Key order does not matter: canonical JSON.
      const reordered = approvalBinding('trader-bot', 'trade.place', { memo: ARGS.memo, currency: 'EUR', amount: 50_000, account: 'ACME-1' });
      expect(await store.consume(record.id, reordered, T0 + 3, 'dec-use')).toMatchObject({ status: 'approved' });
    });

    it('20 concurrent consumes: exactly one gets "approved"', async () => {
      const record = await created();
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 1);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.consume(record.id, binding, T0 + 2, `dec-${i}`)));
      expect(results.filter((r) => r.status === 'approved')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'used')).toHaveLength(19);
    });

    it('20 concurrent decisions: exactly one wins', async () => {
      const record = await created();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.decide(record.id, `approver-${i}`, i % 2 ? 'deny' : 'approve', T0 + 1)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'approval_not_pending')).toHaveLength(19);
    });
  });
}
