import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import { MemoryApprovalStore, newApprovalRecord } from '../../src/approvals/index.js';
import { consoleRouter } from '../../src/console/index.js';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import { createVerifier } from '../../src/identity/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import { person } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { listen } from '../helpers/listen.js';
import { chain } from './events.js';
import { takeEvents, type ServerEvent } from '../../src/console/web/sse-parse.js';

/** The server-sent events of a response, as they come. */
async function* sse(res: Response): AsyncGenerator<ServerEvent> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      const { events, rest } = takeEvents(buffer + value);
      buffer = rest;
      yield* events;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

describe('console API on the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_CONSOLE: 'true' });
  });
  afterAll(() => gw?.close());

  it('is not a tool route: queries naming tools or mcp pass the gate\'s route classifier', async () => {
    const lead = person(gw.url, gw.agents.keys['finance-lead']);
    expect((await lead('GET', '/console/api/decisions?tool=tools&agent=mcp&limit=5')).status).toBe(200);
    expect((await lead('GET', '/console/api/decisions?since=yesterday')).body).toMatchObject({ reason: 'bad_filter' });
    expect((await lead('GET', '/console/api/decisions?limit=0')).body).toMatchObject({ reason: 'bad_limit' });
    expect((await lead('GET', '/console/api/decisions/nope')).body).toMatchObject({ reason: 'decision_unknown' });
    const stats = await lead('GET', '/console/api/stats?bucket_s=60&buckets=10');
    expect(stats.body).toMatchObject({ bucket_s: 60 });
    expect(stats.body.buckets).toHaveLength(10);
  });

  it('streams the pending list to approvers only', async () => {
    const signed = createSignedFetch({ privateJwk: gw.agents.keys['finance-lead'] });
    const res = await signed(`${gw.url}/console/api/stream`);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const seen: string[] = [];
    for await (const e of sse(res)) {
      seen.push(e.event);
      if (e.event === 'pending') break;
    }
    expect(seen).toEqual(['hello', 'pending']);
    const auditorless = await createSignedFetch({ privateJwk: gw.agents.keys.alice })(`${gw.url}/console/api/stream`);
    expect(auditorless.status).toBe(403);
  });
});

describe('console mounting', () => {
  it('is off in toolgate serve unless enabled, and the flag is checked', async () => {
    expect(loadServerConfig({}).console).toEqual({ enabled: false, jaegerUrl: undefined });
    expect(loadServerConfig({ TOOLGATE_CONSOLE: 'true', TOOLGATE_CONSOLE_JAEGER_URL: 'http://j:16686' }).console).toEqual({ enabled: true, jaegerUrl: 'http://j:16686' });
    expect(() => loadServerConfig({ TOOLGATE_CONSOLE: 'yes' })).toThrow(expect.objectContaining({ reason: 'console_flag_invalid' }));
    const gw = await startTestGateway();
    try {
      expect((await fetch(`${gw.url}/console/`)).status).toBe(404);
    } finally {
      await gw.close();
    }
  });

  it('refuses unknown options and a bad Jaeger URL with coded errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-'));
    const agents = ensureDemoAgents(join(dir, 'agents'));
    const verifier = await createVerifier({ jwksFiles: [agents.jwksFile] });
    const base = { store: new MemoryApprovalStore(), verifier, audit: { file: join(dir, 'audit.jsonl') } };
    expect(() => consoleRouter({ ...base, colour: 'blue' } as never)).toThrow(expect.objectContaining({ reason: 'console_option_unknown' }));
    expect(() => consoleRouter({ ...base, jaegerUrl: 'javascript:alert(1)' })).toThrow(expect.objectContaining({ reason: 'console_option_invalid' }));
    expect(() => consoleRouter({ ...base, auditKeyFile: join(dir, 'missing.pem') })).toThrow(expect.objectContaining({ reason: 'console_audit_key_invalid' }));
  });
});

describe('console on several audit files', () => {
  it('follows every worker\'s file (serve --workers with the file sink) into one feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-'));
    const agents = ensureDemoAgents(join(dir, 'agents'));
    const verifier = await createVerifier({ jwksFiles: [agents.jwksFile] });
    const files = [join(dir, 'audit.w0.jsonl'), join(dir, 'audit.w1.jsonl')];
    chain([2], 'gw-w0', 'a').events.forEach((e) => appendFileSync(files[0]!, `${JSON.stringify(e)}\n`));
    chain([2], 'gw-w1', 'b').events.forEach((e) => appendFileSync(files[1]!, `${JSON.stringify(e)}\n`));
    const console_ = consoleRouter({ store: new MemoryApprovalStore(), verifier, audit: { files } });
    const app = express();
    app.use(console_.router);
    const server = await listen(app);
    try {
      await console_.ready;
      const lead = person(server.origin, agents.keys['finance-lead']);
      const listed = (await lead('GET', '/console/api/decisions')).body.decisions as { decision_id: string }[];
      expect(listed.map((d) => d.decision_id).sort()).toEqual(['a0', 'a1', 'b0', 'b1']);
      expect(loadServerConfig({ TOOLGATE_CONSOLE_AUDIT_FILES: files.join(',') }).console.auditFiles).toEqual(files);
      expect(() => consoleRouter({ store: new MemoryApprovalStore(), verifier, audit: { files: [] } })).toThrow(expect.objectContaining({ reason: 'console_option_invalid' }));
    } finally {
      console_.close();
      await server.close();
    }
  });
});

describe('console streams', () => {
  it('end after streamMaxMs with a reconnect event, and a decided approval leaves the pending list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-console-'));
    const agents = ensureDemoAgents(join(dir, 'agents'));
    const verifier = await createVerifier({ jwksFiles: [agents.jwksFile] });
    const store = new MemoryApprovalStore();
    const record = newApprovalRecord({ agent: 'receipts-bot', tool: 'email.send', args: { to: ['a@b.example'] }, reasons: [], decisionId: 'd1', nowMs: Date.now(), summary: '{"to":["a@b.example"]}' });
    await store.create(record);
    const console_ = consoleRouter({ store, verifier, audit: { file: join(dir, 'audit.jsonl') }, pollMs: 50, streamMaxMs: 1500 });
    const app = express();
    app.use(console_.router);
    const server = await listen(app);
    try {
      const signed = createSignedFetch({ privateJwk: agents.keys['finance-lead'] });
      const started = Date.now();
      const res = await signed(`${server.origin}/console/api/stream`);
      const lists: string[][] = [];
      let last = '';
      for await (const e of sse(res)) {
        last = e.event;
        if (e.event !== 'pending') continue;
        lists.push((e.data as { approvals: { id: string }[] }).approvals.map((a) => a.id));
        // Decided elsewhere (another console, the API): the next poll drops it from the list.
        if (lists.length === 1) await store.decide(record.id, 'finance-lead', 'approve', Date.now());
      }
      expect(lists).toEqual([[record.id], []]);
      expect(last).toBe('reconnect');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    } finally {
      console_.close();
      await server.close();
    }
  });
});
