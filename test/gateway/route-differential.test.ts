import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import express, { type Request, type RequestHandler } from 'express';
import { createRequestSigner } from '../../src/agent/sign-request.js';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import type { DemoAgents } from '../../src/demo/agents.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolHandler } from '../../src/server/types.js';
import { toolgate, type Toolgate } from '../../src/gateway/middleware.js';
import { createVerifier } from '../../src/identity/index.js';
import type { Jwk } from '../../src/identity/jwk.js';
import { readAuditFile } from '../helpers/audit.js';
import { listen, type Listening } from '../helpers/listen.js';
import { POLICY_BUNDLE, scratchGateway, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { targetVariant } from '../helpers/targets.js';

/** What a handler behind the gate saw. */
interface Hit {
  readonly probe: string;
  readonly method: string;
  readonly target: string;
  readonly decisionId: string | undefined;
}

const hitOf = (req: Request, decisionId: unknown): Hit => ({
  probe: String(req.headers['x-probe'] ?? ''),
  method: req.method,
  target: req.originalUrl,
  decisionId: typeof decisionId === 'string' ? decisionId : undefined,
});

/** The arguments and the agent for each protected target, so a signed canonical call is usually allowed. */
function callFor(base: string, keys: DemoAgents['keys']): { key: Jwk; body: unknown } {
  if (base === '/tools/email.send') return { key: keys['receipts-bot'], body: { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' } };
  if (base === '/mcp') return { key: keys.advisor, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'trade.suggest', arguments: { symbol: 'NVDA', side: 'sell', reason: 'over target' } } } };
  return { key: keys.advisor, body: { symbol: 'NVDA', side: 'sell', reason: 'over target', scope: 'private', owner: 'advisor', content: 'x' } };
}

/** Sends one request with exactly this request target (node's http client does not normalise it). */
function send(origin: string, method: string, target: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; decisionId: string | null }> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: target, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, decisionId: (res.headers['toolgate-decision-id'] as string | undefined) ?? null }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The property, for one app: generated request targets aimed at the protected routes (case, slashes,
 * percent-encoding, dot segments, `;params`, absolute-form, queries) with every method, signed and unsigned.
 * Every request a handler saw was signed and has an `allow` decision for exactly that method and target in the
 * audit log.
 */
async function assertNoBypass(origin: string, keys: DemoAgents['keys'], hits: Hit[], auditFile: string, runs: number): Promise<void> {
  const signedProbes = new Set<string>();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(targetVariant(origin), fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'), fc.boolean(), async (v, method, signed) => {
      const probe = `p${n++}`;
      const { key, body } = callFor(v.base, keys);
      const bytes = method === 'POST' || method === 'PUT' || method === 'PATCH' ? JSON.stringify(body) : undefined;
      const headers: Record<string, string> = { 'x-probe': probe, ...(bytes ? { 'content-type': 'application/json' } : {}) };
      if (signed) {
        // Signed over the target as a URL parser reads it: where that differs from the raw target the signature
        // fails, where it agrees (absolute-form, most spellings) only the route check stands in the way.
        const url = /^https?:/.test(v.target) ? v.target : `${origin}${v.target}`;
        let signature: Record<string, string> = {};
        try {
          signature = createRequestSigner({ privateJwk: key })({ method, url, headers, ...(bytes ? { body: bytes } : {}) }) as Record<string, string>;
        } catch {
          // a target no URL parser takes: sent unsigned
        }
        Object.assign(headers, signature);
        if (signature['signature']) signedProbes.add(probe);
      }
      await send(origin, method, v.target, headers, bytes);
      for (const hit of hits.filter((h) => h.probe === probe)) {
        expect(signedProbes.has(probe), `unsigned ${method} ${v.target} reached a handler`).toBe(true);
        expect(hit.decisionId, `${method} ${v.target} reached a handler without a decision`).toBeTruthy();
      }
    }),
    { numRuns: runs },
  );
  const events = readAuditFile(auditFile);
  const byId = new Map(events.filter((e) => e.type === 'decision').map((e) => [e.decision_id, e]));
  for (const hit of hits) {
    const event = byId.get(hit.decisionId ?? '');
    expect(event, `no audit event for ${hit.method} ${hit.target}`).toBeDefined();
    expect(event).toMatchObject({ outcome: 'allow', request: { method: hit.method, path: hit.target }, agent: { verified: true } });
  }
  // Not vacuous: signed canonical calls did get through.
  expect(hits.length).toBeGreaterThan(0);
}

describe('no route differential: the demo app', () => {
  const hits: Hit[] = [];
  let gw: TestGateway;

  beforeAll(async () => {
    const demo = exampleTools();
    const tools: Record<string, ToolHandler> = {};
    for (const [name, tool] of Object.entries(demo.tools)) {
      tools[name] = (args, req) => {
        hits.push(hitOf(req, req.toolgate?.decisionId));
        return tool(args, req);
      };
    }
    gw = await startTestGateway({}, { tools });
  });
  afterAll(() => gw?.close());

  it('property: every request a tool saw was signed and allowed by a recorded decision for exactly that request', async () => {
    await assertNoBypass(gw.url, gw.agents.keys, hits, gw.config.audit.file, 250);
  });

  it.each([
    ['POST', '/MCP'],
    ['POST', '/Tools/email.send'],
    ['POST', '/tools/email.send/'],
    ['POST', '/tools/email%2esend'],
  ])('refuses an unsigned %s %s with 400 and records the refusal', async (method, target) => {
    const before = hits.length;
    const body = target.toLowerCase().startsWith('/mcp') ? { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'trade.place', arguments: {} } } : { to: ['x@evil.example'] };
    const r = await send(gw.url, method, target, { 'content-type': 'application/json' }, JSON.stringify(body));
    expect(r.status).toBe(400);
    expect(hits.length).toBe(before);
    const event = readAuditFile(gw.config.audit.file).find((e) => e.decision_id === r.decisionId);
    expect(event).toMatchObject({ outcome: 'invalid', reasons: [{ code: 'path_noncanonical' }], request: { path: target } });
  });
});

describe('no route differential: a plain Express app mounted as README says', () => {
  const hits: Hit[] = [];
  let server: Listening;
  let origin: string;
  let gate: Toolgate;
  let agents: DemoAgents;
  let auditFile: string;

  beforeAll(async () => {
    const scratch = scratchGateway('toolgate-readme-');
    ({ agents, auditFile } = scratch);
    gate = toolgate({
      policy: { bundle: POLICY_BUNDLE },
      verifier: await createVerifier({ jwksFiles: [agents.jwksFile] }),
      audit: { file: auditFile, keyFile: scratch.keyFile },
      environment: 'test',
    });
    // Handlers that answer whatever reaches them: any request Express routes into the wrapped routes counts.
    const observe: RequestHandler = (req, res) => {
      hits.push(hitOf(req, req.toolgate?.decisionId ?? res.getHeader('toolgate-decision-id')));
      res.json({ ok: true });
    };
    const tools = express.Router();
    tools.use(observe);
    const app = express();
    app.use(gate);
    app.use('/tools', gate.tools(tools));
    app.use('/mcp', gate.mcp(observe));
    await gate.ready();
    server = await listen(app);
    origin = server.origin;
  });
  afterAll(async () => {
    await server?.close();
    await gate?.close();
  });

  it('property: every request a handler saw was signed and allowed by a recorded decision for exactly that request', async () => {
    await assertNoBypass(origin, agents.keys, hits, auditFile, 250);
  });

  it('gate.tools() alone (no global guard) still decides every request that reaches the tools', async () => {
    const seen: string[] = [];
    const app = express();
    const inner: RequestHandler = (req, res) => {
      seen.push(`${req.method} ${req.originalUrl}`);
      res.json({ ok: true });
    };
    app.use('/tools', gate.tools(inner));
    app.post('/mcp', gate.mcp(inner));
    const s = await listen(app);
    const o = s.origin;
    try {
      for (const target of ['/tools/email.send', '/TOOLS/email.send', '/tools/email.send/', `${o}/tools/email.send`, '/MCP', '/mcp']) {
        const r = await send(o, 'POST', target, { 'content-type': 'application/json' }, '{}');
        expect([400, 401]).toContain(r.status);
      }
      const signed = createSignedFetch({ privateJwk: agents.keys['receipts-bot'] });
      const ok = await signed(`${o}/tools/email.send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: ['accountant@ledger-partners.example'], subject: 's', body: 'b' }) });
      expect(ok.status).toBe(200);
      expect(seen).toEqual(['POST /tools/email.send']);
    } finally {
      await s.close();
    }
  });
});
