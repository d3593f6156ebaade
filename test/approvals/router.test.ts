import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedFetch, generateAgentKey } from '../../src/agent/index.js';
import {
  MemoryApprovalStore,
  approvalBinding,
  approvalsRouter,
  createApprovalStore,
  lookupApproval,
  newApprovalRecord,
  type ApprovalRecord,
  type ApprovalStore,
  type ApprovalsRouterOptions,
} from '../../src/approvals/index.js';
import { createVerifier, type VerifiedAgent, type Verifier } from '../../src/identity/index.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const lead = generateAgentKey(); // finance-lead, an approver
const trader = generateAgentKey(); // trader-bot, also an approver: the requester in these tests
const receipts = generateAgentKey(); // receipts-bot, not an approver

const ARGS = { account: 'ACME-1', amount: 50_000, currency: 'EUR' };

let verifier: Verifier;
let redis: TestRedis;

beforeAll(async () => {
  verifier = await createVerifier({
    jwks: {
      keys: [
        { ...lead.publicJwk, agent: 'finance-lead', labels: { role: 'approver' } },
        { ...trader.publicJwk, agent: 'trader-bot', labels: { role: 'approver' } },
        { ...receipts.publicJwk, agent: 'receipts-bot', labels: { team: 'finance' } },
      ],
    },
  });
  redis = await startTestRedis();
});
afterAll(async () => {
  await verifier?.close?.();
  await redis?.stop();
});

async function serve(app: express.Express): Promise<{ base: string; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const asLead = createSignedFetch({ privateJwk: lead.privateJwk });
const asTrader = createSignedFetch({ privateJwk: trader.privateJwk });
const asReceipts = createSignedFetch({ privateJwk: receipts.privateJwk });

function post(f: typeof fetch, url: string, body?: unknown): Promise<Response> {
  return f(url, body === undefined ? { method: 'POST' } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe.each([
  ['memory', async (): Promise<ApprovalStore> => new MemoryApprovalStore()],
  ['redis', async (): Promise<ApprovalStore> => createApprovalStore({ redisUrl: redis.url, prefix: `${redis.prefix}router:` })],
])('Approvals API over a real server (%s store)', (_name, makeStore) => {
  let store: ApprovalStore;
  let base: string;
  let close: () => Promise<void>;
  const decisions: { record: ApprovalRecord; approver: VerifiedAgent }[] = [];

  beforeAll(async () => {
    store = await makeStore();
    const app = express();
    app.use(approvalsRouter({ store, verifier, onDecision: (record, approver) => void decisions.push({ record, approver }) }));
    ({ base, close } = await serve(app));
  });
  afterAll(async () => {
    await close?.();
    await store?.close?.();
  });

  async function requested(over: { nowMs?: number; ttlS?: number } = {}): Promise<ApprovalRecord> {
    const record = newApprovalRecord({
      agent: 'trader-bot',
      tool: 'trade.place',
      args: ARGS,
      reasons: [{ code: 'amount_over_limit', message: 'Trades over 10 000 EUR need a human approval.' }],
      decisionId: 'dec-1',
      nowMs: over.nowMs ?? Date.now(),
      ttlS: over.ttlS ?? 900,
      summary: JSON.stringify(ARGS),
    });
    await store.create(record);
    return record;
  }

  it('requires a signature (401 with the identity reason)', async () => {
    const res = await fetch(`${base}/approvals`);
    expect(res.status).toBe(401);
    expect(await json(res)).toMatchObject({ error: 'unauthenticated', reason: 'signature_missing' });
    // Body changed after signing: the digest no longer matches.
    const tampering = createSignedFetch({ privateJwk: lead.privateJwk, fetch: (url, init) => fetch(url, { ...init, body: '{"comment":"other"}' }) });
    const record = await requested();
    const res2 = await post(tampering, `${base}/approvals/${record.id}/approve`, { comment: 'fine' });
    expect(res2.status).toBe(401);
    expect(await json(res2)).toMatchObject({ error: 'unauthenticated', reason: 'digest_mismatch' });
    expect((await store.get(record.id))?.status).toBe('pending');
  });

  it('refuses agents that are not approvers (403 not_an_approver)', async () => {
    const record = await requested();
    for (const res of [await asReceipts(`${base}/approvals`), await post(asReceipts, `${base}/approvals/${record.id}/approve`)]) {
      expect(res.status).toBe(403);
      const body = await json(res);
      expect(body).toMatchObject({ error: 'forbidden', reason: 'not_an_approver' });
      expect(String(body.message)).toContain('approver');
    }
    expect((await store.get(record.id))?.status).toBe('pending');
  });

  it('lists pending approvals and shows one', async () => {
    const a = await requested();
    const b = await requested();
    const res = await asLead(`${base}/approvals`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await json(res)) as { approvals: ApprovalRecord[]; count: number };
    expect(body.approvals.map((r) => r.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(body.approvals.every((r) => r.status === 'pending')).toBe(true);
    const one = await asLead(`${base}/approvals/${a.id}`);
    expect(one.status).toBe(200);
    expect(await json(one)).toEqual({ approval: a });
    const missing = await asLead(`${base}/approvals/apr_missing`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ error: 'not_found', reason: 'approval_unknown' });
  });

  it.each([
    ['status=bogus', 'bad_status'],
    ['limit=0', 'bad_limit'],
    ['limit=abc', 'bad_limit'],
    ['status=pending&status=used', 'bad_status'],
  ])('refuses a bad query %s with 400 %s', async (query, reason) => {
    const res = await asLead(`${base}/approvals?${query}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: 'bad_request', reason });
  });

  it('approves, reports the decision, then refuses a second decision (409)', async () => {
    const record = await requested();
    const before = decisions.length;
    const res = await post(asLead, `${base}/approvals/${record.id}/approve`, { comment: 'checked with the desk' });
    expect(res.status).toBe(200);
    const { approval } = (await json(res)) as { approval: ApprovalRecord };
    expect(approval).toMatchObject({ id: record.id, status: 'approved', decided_by: 'finance-lead', comment: 'checked with the desk' });
    expect(decisions.slice(before)).toEqual([{ record: approval, approver: expect.objectContaining({ id: 'finance-lead', verified: true }) }]);
    const again = await post(asLead, `${base}/approvals/${record.id}/deny`);
    expect(again.status).toBe(409);
    expect(await json(again)).toMatchObject({ error: 'conflict', reason: 'approval_not_pending', status: 'approved' });
    expect(await asLead(`${base}/approvals?status=approved`).then(json)).toMatchObject({ approvals: expect.arrayContaining([expect.objectContaining({ id: record.id })]) });

    // The agent retries the identical call: the gateway sees "approved" once, then "used".
    const binding = approvalBinding('trader-bot', 'trade.place', { currency: 'EUR', amount: 50_000, account: 'ACME-1' });
    expect(await lookupApproval(store, record.id, binding, Date.now())).toEqual({ id: record.id, status: 'approved', approved_by: 'finance-lead' });
    expect(await store.consume(record.id, binding, Date.now(), 'dec-2')).toMatchObject({ status: 'approved' });
    expect(await store.consume(record.id, binding, Date.now(), 'dec-3')).toMatchObject({ status: 'used' });
  });

  it('denies with an empty body', async () => {
    const record = await requested();
    const res = await post(asLead, `${base}/approvals/${record.id}/deny`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ approval: { status: 'denied', decided_by: 'finance-lead' } });
  });

  it('never lets the requesting agent decide its own request (403 approver_is_requester)', async () => {
    const record = await requested();
    const res = await post(asTrader, `${base}/approvals/${record.id}/approve`);
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ error: 'forbidden', reason: 'approver_is_requester' });
    expect((await store.get(record.id))?.status).toBe('pending');
  });

  it('refuses to decide an expired approval (409 approval_expired)', async () => {
    const record = await requested({ nowMs: Date.now() - 120_000, ttlS: 60 });
    const shown = await asLead(`${base}/approvals/${record.id}`).then(json);
    expect(shown).toMatchObject({ approval: { status: 'expired' } });
    const res = await post(asLead, `${base}/approvals/${record.id}/approve`);
    expect(res.status).toBe(409);
    expect(await json(res)).toMatchObject({ reason: 'approval_expired' });
  });

  it.each([
    ['not json', 'bad_json'],
    ['[1]', 'bad_body'],
    ['{"coment":"typo"}', 'bad_body'],
    ['{"comment":42}', 'bad_comment'],
    [JSON.stringify({ comment: 'x'.repeat(2001) }), 'bad_comment'],
  ])('refuses body %s with 400 %s', async (body, reason) => {
    const record = await requested();
    const res = await post(asLead, `${base}/approvals/${record.id}/approve`, body);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: 'bad_request', reason });
    expect((await store.get(record.id))?.status).toBe('pending');
  });

  it('refuses a body over the limit with 413', async () => {
    const record = await requested();
    const res = await post(asLead, `${base}/approvals/${record.id}/approve`, { comment: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ error: 'bad_request', reason: 'body_too_large' });
  });
});

describe('approvalsRouter hooks and options', () => {
  async function app(options: Partial<ApprovalsRouterOptions>, store: ApprovalStore, before?: (a: express.Express) => void) {
    const a = express();
    before?.(a);
    a.use(approvalsRouter({ store, verifier, ...options }));
    return serve(a);
  }

  function record(): ApprovalRecord {
    return newApprovalRecord({ agent: 'trader-bot', tool: 'trade.place', args: ARGS, reasons: [], decisionId: 'd', nowMs: Date.now() });
  }

  it('a failing onDecision hook cannot break the request; the decision stands', async () => {
    const store = new MemoryApprovalStore();
    const errors: string[] = [];
    const server = await app(
      {
        onDecision: async () => {
          throw new Error('audit down');
        },
        logger: { warn: () => undefined, error: (m) => void errors.push(m) },
      },
      store,
    );
    try {
      const r = record();
      await store.create(r);
      const res = await post(asLead, `${server.base}/approvals/${r.id}/approve`);
      expect(res.status).toBe(200);
      expect((await store.get(r.id))?.status).toBe('approved');
      expect(errors).toEqual([expect.stringContaining('onDecision')]);
    } finally {
      await server.close();
    }
  });

  it('a throwing isApprover hook means "not an approver"; a custom one is used', async () => {
    const store = new MemoryApprovalStore();
    const throwing = await app({ isApprover: () => { throw new Error('directory down'); } }, store);
    const custom = await app({ isApprover: (agent) => agent.labels.team === 'finance' }, store);
    try {
      expect((await asLead(`${throwing.base}/approvals`)).status).toBe(403);
      expect((await asReceipts(`${custom.base}/approvals`)).status).toBe(200);
      expect((await asLead(`${custom.base}/approvals`)).status).toBe(403);
    } finally {
      await throwing.close();
      await custom.close();
    }
  });

  it('says what to fix when a body parser ran first', async () => {
    const store = new MemoryApprovalStore();
    const server = await app({}, store, (a) => a.use(express.json()));
    try {
      const r = record();
      await store.create(r);
      const res = await post(asLead, `${server.base}/approvals/${r.id}/approve`, { comment: 'ok' });
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ reason: 'body_already_parsed' });
    } finally {
      await server.close();
    }
  });

  it('answers 503 approvals_unavailable when the store fails', async () => {
    const broken = await createApprovalStore({ redisUrl: redis.url, prefix: `${redis.prefix}broken:` });
    await broken.close?.();
    const server = await app({}, broken);
    try {
      const res = await asLead(`${server.base}/approvals`);
      expect(res.status).toBe(503);
      expect(await json(res)).toMatchObject({ error: 'unavailable', reason: 'approvals_unavailable' });
    } finally {
      await server.close();
    }
  });

  it('rejects bad options at construction with a coded error', () => {
    const store = new MemoryApprovalStore();
    expect(() => approvalsRouter({ store, verifier, isAprover: () => true } as never)).toThrow(/unknown option "isAprover"/);
    expect(() => approvalsRouter({ store, verifier: {} as never })).toThrow(/verifier/);
    expect(() => approvalsRouter({ store, verifier, bodyLimit: -1 })).toThrow(/bodyLimit/);
  });
});
