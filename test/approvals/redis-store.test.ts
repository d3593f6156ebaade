import { describe, expect, it } from 'vitest';
import { RedisApprovalStore, createApprovalStore, approvalBinding } from '../../src/approvals/index.js';
import { UnavailableError } from '../../src/errors.js';
import { useTestRedis } from '../helpers/redis.js';
import { approvalStoreContract, pending, T0 } from './store-contract.js';

const testRedis = useTestRedis();

approvalStoreContract('redis', async () => ({ store: await createApprovalStore({ redisUrl: testRedis().url, prefix: testRedis().prefix }) }));

describe('RedisApprovalStore', () => {
  it('stores records as JSON under <prefix>approval:<id> with a TTL a bit past expires_at', async () => {
    const store = await RedisApprovalStore.connect(testRedis().url, { prefix: testRedis().prefix, retainMs: 60_000 });
    const client = await testRedis().client();
    try {
      const record = pending();
      await store.create(record);
      const raw = await client.get(`${testRedis().prefix}approval:${record.id}`);
      expect(JSON.parse(raw ?? 'null')).toMatchObject({ id: record.id, status: 'pending', binding: record.binding });
      const pttl = await client.pttl(`${testRedis().prefix}approval:${record.id}`);
      expect(pttl).toBeGreaterThan(900_000);
      expect(pttl).toBeLessThanOrEqual(960_000);
      expect(await client.zscore(`${testRedis().prefix}approvals:pending`, record.id)).toBe(String(T0 + 900_000));
      // Decisions keep the TTL (SET … KEEPTTL).
      await store.decide(record.id, 'finance-lead', 'approve', T0 + 1);
      expect(await client.pttl(`${testRedis().prefix}approval:${record.id}`)).toBeGreaterThan(900_000);
      expect(await client.zscore(`${testRedis().prefix}approvals:pending`, record.id)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('falls back to EVAL when Redis answers NOSCRIPT to EVALSHA', async () => {
    // No SCRIPT FLUSH: TOOLGATE_REDIS_URL may be shared with other suites. An unknown sha gets Redis's real NOSCRIPT.
    const client = await testRedis().client();
    const sent: string[] = [];
    const store = new RedisApprovalStore({
      prefix: testRedis().prefix,
      sendCommand: (...args) => {
        sent.push(args[0] ?? '');
        const rewritten = args[0] === 'EVALSHA' ? ['EVALSHA', '0'.repeat(40), ...args.slice(2)] : args;
        return client.call(rewritten[0] ?? '', ...rewritten.slice(1));
      },
    });
    const record = pending();
    await store.create(record);
    expect(await store.decide(record.id, 'finance-lead', 'approve', T0 + 1)).toMatchObject({ ok: true });
    const binding = approvalBinding('trader-bot', 'trade.place', { account: 'ACME-1', amount: 50_000, currency: 'EUR', memo: 'Q3 invoice / "rush"' });
    expect(await store.consume(record.id, binding, T0 + 2, 'dec')).toMatchObject({ status: 'approved' });
    expect(sent).toEqual(['EVALSHA', 'EVAL', 'EVALSHA', 'EVAL', 'EVALSHA', 'EVAL']);
  });

  it('two gateway instances (two connections): 20 concurrent consumes, exactly one "approved"', async () => {
    const a = await RedisApprovalStore.connect(testRedis().url, { prefix: testRedis().prefix });
    const b = await RedisApprovalStore.connect(testRedis().url, { prefix: testRedis().prefix });
    try {
      const record = pending();
      await a.create(record);
      await b.decide(record.id, 'finance-lead', 'approve', T0 + 1);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).consume(record.id, record.binding, T0 + 2, `dec-${i}`)));
      expect(results.filter((r) => r.status === 'approved')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'used')).toHaveLength(19);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('fails closed with approvals_unavailable when Redis is gone', async () => {
    const store = new RedisApprovalStore({
      sendCommand: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
    });
    for (const op of [() => store.get('apr_x'), () => store.consume('apr_x', 'b', T0, 'd'), () => store.decide('apr_x', 'a', 'approve', T0), () => store.list(), () => store.create(pending())]) {
      await expect(op()).rejects.toMatchObject({ name: 'UnavailableError', reason: 'approvals_unavailable' });
    }
    await expect(createApprovalStore({ redisUrl: 'redis://127.0.0.1:1' })).rejects.toBeInstanceOf(UnavailableError);
  });
});
