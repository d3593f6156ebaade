import { afterAll, describe, expect, it } from 'vitest';
import { createVerifier, IdentityError, MemoryNonceStore, RedisNonceStore, type NonceStore } from '../../src/identity/index.js';
import { ReplayStoreFencedError } from '../../src/identity/redis-nonce-store.js';
import { UnavailableError } from '../../src/errors.js';
import { generateAgentKey, registryFor, signedFacts, T0 } from './helpers.js';
import { nonceStoreContract } from './nonce-store-contract.js';
import { useTestRedis } from '../helpers/redis.js';

const key = generateAgentKey();

/** 50 copies of one signed request, verified concurrently (spread over `verifiers`): exactly one may pass. */
async function fiftyCopies(stores: NonceStore[]): Promise<{ passed: number; replayed: number }> {
  const verifiers = await Promise.all(stores.map((nonceStore) => createVerifier({ jwks: registryFor(key), nonceStore, now: () => T0 })));
  const request = signedFacts(key);
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => verifiers[i % verifiers.length]!.verify(request)));
  const replayed = results.filter((r) => r.status === 'rejected' && r.reason instanceof IdentityError && r.reason.reason === 'replayed').length;
  return { passed: results.filter((r) => r.status === 'fulfilled').length, replayed };
}

nonceStoreContract('MemoryNonceStore', async (limits) => new MemoryNonceStore(limits ?? {}));

describe('MemoryNonceStore', () => {
  it('with 50 concurrent copies of one signed request, exactly one passes', async () => {
    expect(await fiftyCopies([new MemoryNonceStore()])).toEqual({ passed: 1, replayed: 49 });
  });

  it('refuses (fails closed) when full of live nonces, and reclaims expired ones', async () => {
    let now = 0;
    const store = new MemoryNonceStore({ maxEntries: 2, now: () => now });
    expect(await store.remember('a', 1000)).toBe(true);
    expect(await store.remember('b', 1000)).toBe(true);
    await expect(store.remember('c', 1000)).rejects.toThrow(/replay store is full \(2 nonces.*at most 2 entries/);
    now = 2000;
    expect(await store.remember('c', 1000)).toBe(true);
  });

  it('a failing store makes the verifier fail closed with UnavailableError', async () => {
    const broken: NonceStore = { remember: async () => Promise.reject(new Error('connection refused')) };
    const v = await createVerifier({ jwks: registryFor(key), nonceStore: broken, now: () => T0 });
    await expect(v.verify(signedFacts(key))).rejects.toBeInstanceOf(UnavailableError);
  });

  it('nonceStore: false turns replay protection off (documented, not the default)', async () => {
    const v = await createVerifier({ jwks: registryFor(key), nonceStore: false, now: () => T0 });
    const f = signedFacts(key);
    await v.verify(f);
    await expect(v.verify(f)).resolves.toBeTruthy();
  });

  it('nonces are scoped per key and fall back to the signature hash', async () => {
    const other = generateAgentKey();
    const v = await createVerifier({ jwks: { keys: [...registryFor(key).keys, ...registryFor(other).keys] }, now: () => T0 });
    await v.verify(signedFacts(key, {}, { nonce: 'shared' }));
    await expect(v.verify(signedFacts(other, {}, { nonce: 'shared' }))).resolves.toBeTruthy();
    const noNonce = signedFacts(key, {}, { nonce: false });
    await v.verify(noNonce);
    await expect(v.verify(noNonce)).rejects.toMatchObject({ reason: 'replayed' });
  });
});

describe('replay key', () => {
  it('a nonce over 256 bytes is signature_malformed and never reaches the store; 256 bytes pass', async () => {
    const store = new MemoryNonceStore();
    const v = await createVerifier({ jwks: registryFor(key), nonceStore: store, now: () => T0 });
    await expect(v.verify(signedFacts(key, {}, { nonce: 'n'.repeat(257) }))).rejects.toMatchObject({ reason: 'signature_malformed', message: expect.stringMatching(/nonce is 257 bytes.*256/) });
    await expect(v.verify(signedFacts(key, {}, { nonce: 'n'.repeat(8000) }))).rejects.toMatchObject({ reason: 'signature_malformed' });
    expect(store.size).toBe(0);
    await expect(v.verify(signedFacts(key, {}, { nonce: 'n'.repeat(256) }))).resolves.toMatchObject({ nonce: 'n'.repeat(256) });
    expect(store.size).toBe(1);
  });

  it('an ECDSA twin signature (r, n - s) of a nonce-less request is still a replay', async () => {
    const ec = generateAgentKey('ecdsa-p256-sha256');
    const v = await createVerifier({ jwks: registryFor(ec), now: () => T0 });
    const f = signedFacts(ec, {}, { nonce: false });
    await v.verify(f);
    const header = String(f.headers.signature);
    const sig = Buffer.from(/:(.*):/.exec(header)![1]!, 'base64');
    const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const twin = Buffer.concat([sig.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex')]);
    expect(twin.equals(sig)).toBe(false);
    const replay = { ...f, headers: { ...f.headers, signature: `sig1=:${twin.toString('base64')}:` } };
    await expect(v.verify(replay)).rejects.toMatchObject({ reason: 'replayed' });
  });

  it('close() leaves a store the caller passed in open (it may be shared)', async () => {
    let closed = false;
    const store: NonceStore = { remember: async () => true, close: async () => { closed = true; } };
    const v = await createVerifier({ jwks: registryFor(key), nonceStore: store });
    await v.close?.();
    expect(closed).toBe(false);
  });
});

describe('RedisNonceStore (real Redis)', () => {
  const redis = useTestRedis();
  const stores: RedisNonceStore[] = [];
  let seq = 0;
  const connect = async (limits: { maxEntries?: number; prefix?: string } = {}): Promise<RedisNonceStore> => {
    const store = await RedisNonceStore.connect(redis().url, { prefix: `${redis().prefix}nonce:${++seq}:`, ...limits });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  nonceStoreContract('RedisNonceStore', (limits) => connect(limits));

  it('stores a fixed number of bytes per entry, however long the keys (hashed), counted by Redis itself', async () => {
    const prefix = `${redis().prefix}bytes:`;
    const store = await connect({ prefix });
    const client = await redis().client();
    for (let i = 0; i < 50; i += 1) expect(await store.remember(`${i}:${'n'.repeat(64 * 1024)}`, 60_000)).toBe(true);
    const keys = await client.keys(`${prefix}*`);
    let bytes = 0;
    for (const k of keys) bytes += Number(await client.memory('USAGE', k));
    // 50 keys of 64 KiB stored verbatim would be 3.2 MiB; hashed they take a few KiB.
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(50 * 256);
  });

  it('with 50 concurrent copies of one signed request over two gateway instances, exactly one passes', async () => {
    // Two instances share one prefix, as gateways sharing a Redis do.
    const prefix = `${redis().prefix}shared:`;
    expect(await fiftyCopies([await connect({ prefix }), await connect({ prefix })])).toEqual({ passed: 1, replayed: 49 });
  });

  describe('a Redis that lost its data (restarted without persistence, failed over to an empty node, flushed)', () => {
    const connectAt = async (prefix: string, fenceMs: number) => {
      const store = await RedisNonceStore.connect(redis().url, { prefix, fenceMs });
      stores.push(store);
      return store;
    };
    const lose = async (prefix: string) => {
      const client = await redis().client();
      for (const key of await client.keys(`${prefix}*`)) await client.del(key);
    };

    it('refuses every signed request, on every instance, until each signature it may have seen has expired', async () => {
      const prefix = `${redis().prefix}lost-${++seq}:`;
      const [a, b] = [await connectAt(prefix, 400), await connectAt(prefix, 400)];
      expect(await a.remember('sig-1', 60_000)).toBe(true);
      await lose(prefix);
      // The instance that knew the store sees the loss: the replay is refused, not taken for a first sight.
      await expect(a.remember('sig-1', 60_000)).rejects.toThrow(ReplayStoreFencedError);
      await expect(a.remember('sig-1', 60_000)).rejects.toThrow(/lost the replay store's data.*refused until/);
      // An instance that never used the store is fenced too, and a new signature as well.
      await expect(b.remember('sig-2', 60_000)).rejects.toThrow(ReplayStoreFencedError);
      // Once the fence is over, the store works again for everyone.
      await expect.poll(() => a.remember('sig-3', 60_000).catch(() => 'fenced'), { timeout: 5_000, interval: 50 }).toBe(true);
      expect(await b.remember('sig-3', 60_000)).toBe(false);
    });

    it('fences from the loss even when an instance that never knew the store restarted it first', async () => {
      const prefix = `${redis().prefix}lost-${++seq}:`;
      const old = await connectAt(prefix, 60_000);
      expect(await old.remember('sig-1', 60_000)).toBe(true);
      await lose(prefix);
      const fresh = await connectAt(prefix, 60_000);
      expect(await fresh.remember('sig-2', 60_000)).toBe(true); // nothing it could know of was lost
      await expect(old.remember('sig-1', 60_000)).rejects.toThrow(ReplayStoreFencedError);
      await expect(fresh.remember('sig-3', 60_000)).rejects.toThrow(ReplayStoreFencedError);
    });

    it('does not fence a first start on an empty Redis', async () => {
      const prefix = `${redis().prefix}lost-${++seq}:`;
      const [a, b] = [await connectAt(prefix, 60_000), await connectAt(prefix, 60_000)];
      expect(await a.remember('sig-1', 60_000)).toBe(true);
      expect(await b.remember('sig-1', 60_000)).toBe(false);
    });
  });

  it('connect() to a port nobody listens on rejects with UnavailableError(replay_store_unavailable), password masked', async () => {
    const error = await RedisNonceStore.connect('redis://:hunter2@127.0.0.1:1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ reason: 'replay_store_unavailable', message: expect.stringContaining('TOOLGATE_REDIS_URL') });
    expect((error as Error).message).not.toContain('hunter2');
  });
});
