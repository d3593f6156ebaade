import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { AgentClient } from '../../src/agent/client.js';
import { signRequest } from '../../src/agent/sign-request.js';
import { ed25519Thumbprint, loadEd25519PrivateKey } from '../../src/audit/chain.js';
import { verifyEvents } from '../../src/audit/verify.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { toolgate } from '../../src/gateway/middleware.js';
import { createVerifier } from '../../src/identity/index.js';
import { ConfigError } from '../../src/errors.js';
import { POLICY_BUNDLE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { readAuditFile } from '../helpers/audit.js';

const readAudit = (gw: TestGateway): AuditEvent[] => readAuditFile(gw.config.audit.file);

/** The middleware on its embedded defaults (JSONL audit file, in-memory state): the HTTP contract end to end. */
describe('toolgate middleware, embedded defaults', () => {
  const demo = exampleTools();
  let gw: TestGateway;
  let receipts: AgentClient;
  let advisor: AgentClient;

  beforeAll(async () => {
    gw = await startTestGateway({}, { tools: demo.tools });
    receipts = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    advisor = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor });
  });
  afterAll(() => gw?.close());

  it('passes an allowed call to the tool, with a decision id', async () => {
    const r = await receipts.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    expect(r.status).toBe(200);
    expect(r.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(demo.outbox).toHaveLength(1);
  });

  it('denies with 403 and reasons, and the tool never runs', async () => {
    const before = demo.outbox.length;
    const r = await receipts.callTool('email.send', { to: ['x@evil.example'], subject: 's', body: 'b' });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ decision: 'deny', decision_id: r.decisionId, policy: { revision: gw.gate.policyRevision } });
    expect((r.body as { reasons: unknown[] }).reasons.length).toBeGreaterThan(0);
    expect(demo.outbox.length).toBe(before);
  });

  it('refuses an MCP tools/call with a tool result (isError) carrying the decision, as HTTP 200', async () => {
    const r = await advisor.callMcp('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 1, limit_price: 1, reason: 'r', inputs: ['q'] });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { isError: true, structuredContent: { decision: 'deny', decision_id: r.decisionId } } });
    expect(demo.orders).toHaveLength(0);
  });

  it('allows an MCP tools/call and lets non-call MCP methods through', async () => {
    const r = await advisor.callMcp('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'over target' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ jsonrpc: '2.0', result: { isError: false } });
    const list = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: 9, method: 'tools/list' });
    expect((list.body as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    // The client's JSON-RPC response to a server request passes (signed), as the service's 202 shows.
    const answer = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: 'srv-1', result: {} });
    expect(answer.status).toBe(202);
    expect(answer.decisionId).toBeTruthy();
  });

  it('requires a signature for every MCP message and lets only the configured methods through', async () => {
    const unsigned = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'initialize' }) });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ jsonrpc: '2.0', id: 3, error: { code: -32081, data: { reason: 'signature_missing' } } });
    const read = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'file:///etc/passwd' } });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ jsonrpc: '2.0', id: 4, error: { code: -32083, data: { reasons: [{ code: 'mcp_method_not_allowed' }] } } });
    const notified = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    expect(notified.status).toBe(403); // a notification has no id to answer: the refusal stays an HTTP error
    const broken = await fetch(`${gw.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, data: { reason: 'invalid_json' } } });
    // A malformed call whose id could be read is answered with that id (JSON-RPC answers null only when it cannot).
    const noArgs = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'trade.suggest', arguments: [1] } });
    expect(noArgs.status).toBe(400);
    expect(noArgs.body).toMatchObject({ jsonrpc: '2.0', id: 11, error: { code: -32600, data: { reason: 'args_not_object' } } });
    const noName = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: 'c-12', method: 'tools/call', params: {} });
    expect(noName.body).toMatchObject({ jsonrpc: '2.0', id: 'c-12', error: { code: -32602, data: { reason: 'mcp_invalid_params' } } });
    const badId = await advisor.send('POST', '/mcp', { jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list' });
    expect(badId.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600, data: { reason: 'mcp_invalid_request' } } });
  });

  it.each([
    ['no signature', {}, 'signature_missing'],
    ['garbage signature headers', { 'signature-input': 'sig1=("@method");created=1', signature: 'sig1=:AAAA:' }, undefined],
    ['a structured-field bomb', { 'signature-input': '('.repeat(5000), signature: ')'.repeat(5000) }, undefined],
  ])('answers 401 with a reason code for %s', async (_name, headers, reason) => {
    const res = await fetch(`${gw.url}/tools/email.send`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; reason: string; decision_id: string };
    expect(body.error).toBe('unauthenticated');
    if (reason) expect(body.reason).toBe(reason);
    expect(body.reason).toMatch(/^[a-z_]+$/);
    expect(res.headers.get('toolgate-decision-id')).toBe(body.decision_id);
  });

  it('rejects a signature from a key that is not registered', async () => {
    const stranger = new AgentClient({ baseUrl: gw.url, privateJwk: (await import('../../src/agent/keys.js')).generateAgentKey().privateJwk });
    const r = await stranger.callTool('email.send', {});
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ reason: 'key_unknown' });
  });

  it('rejects a body that does not match its signed Content-Digest', async () => {
    const url = `${gw.url}/tools/email.send`;
    const body = JSON.stringify({ to: ['accountant@ledger-partners.example'], subject: 'a', body: 'b' });
    const headers = signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { privateJwk: gw.agents.keys['receipts-bot'] });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body.replace('"b"', '"B"') });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { reason: string }).reason).toBe('digest_mismatch');
  });

  it('refuses a replay that strips the signature that counted and keeps a second one', async () => {
    const url = `${gw.url}/tools/email.send`;
    const body = JSON.stringify({ to: ['accountant@ledger-partners.example'], subject: 'two signatures', body: 'x' });
    const base = { method: 'POST', url, headers: { 'content-type': 'application/json' }, body };
    const key = gw.agents.keys['receipts-bot'];
    const s1 = signRequest(base, { privateJwk: key, label: 'sig1' });
    const s2 = signRequest(base, { privateJwk: key, label: 'sig2' });
    const both = { 'content-type': 'application/json', 'content-digest': s1['content-digest']!, 'signature-input': `${s1['signature-input']}, ${s2['signature-input']}`, signature: `${s1.signature}, ${s2.signature}` };
    expect((await fetch(url, { method: 'POST', headers: both, body })).status).toBe(200);
    const stripped = { 'content-type': 'application/json', 'content-digest': s2['content-digest']!, 'signature-input': s2['signature-input'], signature: s2.signature };
    const replay = await fetch(url, { method: 'POST', headers: stripped, body });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { reason: string }).reason).toBe('replayed');
  });

  it.each([
    ['invalid JSON', '{"to":', 400, 'invalid_json'],
    ['an array body', '[1]', 400, 'args_not_object'],
    ['an oversized body', JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }), 413, 'body_too_large'],
  ])('answers %s with a coded 4xx, never a 5xx', async (_name, body, status, reason) => {
    const res = await fetch(`${gw.url}/tools/email.send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: 'bad_request', reason });
  });

  it('refuses more attachments than it resolves, instead of letting unchecked ones through', async () => {
    const r = await receipts.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'x', body: 'x', attachments: Array.from({ length: 65 }, (_, i) => `upl_${i}`) });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: 'bad_request', reason: 'too_many_attachments' });
  });

  it('answers a hostile tool path with 400', async () => {
    const res = await fetch(`${gw.url}/tools/%2e%2e%2fadmin`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'path_noncanonical' });
  });

  it('passes other routes through untouched', async () => {
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { replayStore: { entries: number; maxEntries: number; bytes: number; maxBytes: number } };
    expect(body).toMatchObject({ status: 'ready', policy: gw.gate.policyRevision, audit: { sink: 'file', healthy: true } });
    // The in-memory replay store's fill level: the signed calls before this test left their nonces in it.
    expect(body.replayStore.entries).toBeGreaterThan(0);
    expect(body.replayStore.entries).toBeLessThanOrEqual(body.replayStore.maxEntries);
    expect(body.replayStore.bytes).toBeLessThanOrEqual(body.replayStore.maxBytes);
  });

  it('has written a schema-valid, verifiable audit event for every decision', async () => {
    const events = readAudit(gw);
    expect(events.length).toBeGreaterThanOrEqual(10);
    for (const e of events) assertAuditEvent(e);
    const key = createPublicKey(loadEd25519PrivateKey(readFileSync(gw.config.audit.keyFile, 'utf8')));
    const report = verifyEvents(events, new Map([[ed25519Thumbprint(key), key]]));
    expect(report.ok).toBe(true);
    expect(new Set(events.map((e) => e.outcome))).toEqual(new Set(['allow', 'deny', 'unauthenticated', 'invalid']));
  });
});

describe('toolgate start-up', () => {
  it('rejects unknown options with a hint', async () => {
    const verifier = await createVerifier({ jwks: { keys: [] } as never }).catch(() => ({ verify: async () => { throw new Error('x'); } }));
    expect(() => toolgate({ policy: { bundle: POLICY_BUNDLE }, verifier, Environment: 'x' } as never)).toThrow(ConfigError);
    expect(() => toolgate({ policy: { bundle: POLICY_BUNDLE }, verifier, Environment: 'x' } as never)).toThrow(/Did you mean environment/);
  });

  it('fails closed with 503 when the policy bundle cannot be loaded', async () => {
    const verifier = { verify: async () => { throw new Error('unreachable'); } };
    const gate = toolgate({ policy: { bundle: '/nonexistent/bundle' }, verifier, audit: { file: '/tmp/toolgate-test-unused.jsonl', keyFile: '/tmp/toolgate-test-unused.pem' } });
    await expect(gate.ready()).rejects.toMatchObject({ reason: 'policy_bundle_unreadable' });
    const app = express();
    app.use(gate);
    app.post('/tools/:name', (_req, res) => {
      res.json({ executed: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}/tools/email.send`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'unavailable', reason: 'policy_unavailable' });
    expect(gate.readiness().ready).toBe(false);
    server.close();
  });
});
