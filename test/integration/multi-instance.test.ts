import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/agent/sign-request.js';
import { AgentClient } from '../../src/agent/client.js';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { services } from '../helpers/services.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';

/** A POST with an explicit Host header (fetch would send the listener's own). */
function post(port: number, host: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, host, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Two gateway instances sharing one real Redis (TOOLGATE_REDIS_URL): a signature replayed to the other instance is
 * refused, one rate limit spans both, an upload made through one is an attachment the other accepts, and an
 * approval asked on one is spent on the other.
 */
describe('several gateway instances on one Redis', () => {
  const svc = services();
  const agents = ensureDemoAgents(join(mkdtempSync(join(tmpdir(), 'toolgate-multi-')), 'agents'));
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    // Same registry, same Redis, separate processes' worth of state otherwise.
    // A fresh key prefix per run: limit windows outlive a run, and runs share the Redis.
    const env = { TOOLGATE_REDIS_URL: svc.redisUrl, TOOLGATE_REDIS_PREFIX: `toolgate-test-${randomBytes(4).toString('hex')}:` };
    a = await startTestGateway(env, { agents });
    b = await startTestGateway(env, { agents });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('refuses a signed request replayed to another instance', async () => {
    const body = JSON.stringify({ to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'x' });
    // Both instances sit behind one name (as behind a load balancer): the signature covers that authority.
    const authority = 'gateway.internal';
    const headers = { 'content-type': 'application/json', ...signRequest({ method: 'POST', url: `http://${authority}/tools/email.send`, headers: { 'content-type': 'application/json' }, body }, { privateJwk: agents.keys['receipts-bot'] }) };
    const first = await post(a.port, authority, '/tools/email.send', headers, body);
    const second = await post(b.port, authority, '/tools/email.send', headers, body);
    expect(first.status).toBe(200);
    expect(second.status).toBe(401);
    expect(JSON.parse(second.body)).toMatchObject({ reason: 'replayed' });
  });

  it('counts one rate limit across both instances (email.send: 20 an hour)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      const gw = i % 2 ? a : b;
      const r = await new AgentClient({ baseUrl: gw.url, privateJwk: agents.keys['receipts-bot'] }).callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: `R${i}`, body: 'x' });
      statuses.push(r.status);
    }
    // The replay test above already spent one of the 20.
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });

  it('shares uploads and approvals', async () => {
    const alice = new AgentClient({ baseUrl: a.url, privateJwk: agents.keys.alice });
    const up = await alice.send('POST', '/uploads', 'receipt bytes');
    expect(up.status).toBe(201);
    const sent = await new AgentClient({ baseUrl: b.url, privateJwk: agents.keys['receipts-bot'] }).callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipt', body: 'x', attachments: [(up.body as { id: string }).id] });
    expect(sent.status).toBe(429); // the attachment resolves on b; email.send's hourly limit was spent above
    expect((sent.body as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toEqual(['rate_limited']);
    const inbox = await new AgentClient({ baseUrl: a.url, privateJwk: agents.keys['receipts-bot'] }).callTool('email.read_inbox', {});
    expect(inbox.status).toBe(202);
    const id = (inbox.body as { approval: { id: string } }).approval.id;
    const approved = await new AgentClient({ baseUrl: b.url, privateJwk: agents.keys['finance-lead'] }).send('POST', `/approvals/${id}/approve`);
    expect(approved.status).toBe(200);
    const used = await new AgentClient({ baseUrl: b.url, privateJwk: agents.keys['receipts-bot'] }).callTool('email.read_inbox', {}, { 'toolgate-approval': id });
    expect(used.status).toBe(200);
    const again = await new AgentClient({ baseUrl: a.url, privateJwk: agents.keys['receipts-bot'] }).callTool('email.read_inbox', {}, { 'toolgate-approval': id });
    expect(again.status).toBe(403);
    expect((again.body as { reasons: { code: string }[] }).reasons.map((r) => r.code)).toContain('approval_used');
    const fetched = await new AgentClient({ baseUrl: b.url, privateJwk: agents.keys.alice }).send('GET', `/uploads/${(up.body as { id: string }).id}`);
    expect(fetched.body).toMatchObject({ uploaded_by: 'alice', source: 'user_upload' });
  });

  it('shares MCP session owners: a session opened on one instance belongs to its agent on the other too, to no one else', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const opened = await new AgentClient({ baseUrl: a.url, privateJwk: agents.keys.advisor }).send('POST', '/mcp', init);
    expect(opened.status).toBe(200);
    const sid = opened.headers.get('mcp-session-id')!;
    const onB = async (key: keyof typeof agents.keys) => {
      const r = await new AgentClient({ baseUrl: b.url, privateJwk: agents.keys[key] }).send('POST', '/mcp', { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': sid });
      return ((r.body as { error?: { data?: { reasons?: { code: string }[] } } }).error?.data?.reasons ?? []).map((x) => x.code);
    };
    // The other instance's service never saw the session (each demo process keeps its own): the gate lets the owner
    // through (the service answers), and refuses everyone else itself, as a JSON-RPC error the client can read.
    await expect.poll(() => onB('receipts-bot')).toContain('mcp_session_forbidden');
    expect(await onB('advisor')).not.toContain('mcp_session_forbidden');
  });
});
