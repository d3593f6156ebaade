import { readFile } from 'node:fs';
import { Readable } from 'node:stream';
import { context } from '@opentelemetry/api';
import type { Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestSigner } from '../../src/agent/sign-request.js';
import { MemoryApprovalStore, approvalBinding, newApprovalRecord } from '../../src/approvals/index.js';
import { readAuditFile } from '../helpers/audit.js';
import type { DemoAgents } from '../../src/demo/agents.js';
import { resolveOptions, type Configuration } from '../../src/gateway/options.js';
import { classifyRoute } from '../../src/gateway/routes.js';
import { startRuntime } from '../../src/gateway/runtime.js';
import { Acquired, admitMcp, buildPolicyInput, decide, extract, identify, ready, record, reserve, runStages, type CallContext, type GatewayDeps, type Runtime, type Stage, type Stop } from '../../src/gateway/stages/index.js';
import { LARGE_BODY_BYTES } from '../../src/gateway/stages/util.js';
import { createVerifier } from '../../src/identity/index.js';
import { MemoryLimitStore } from '../../src/limits/memory-store.js';
import { GatewayMetrics } from '../../src/telemetry/metrics.js';
import { startDecisionSpan } from '../../src/telemetry/decision-span.js';
import { POLICY_BUNDLE, scratchGateway } from '../helpers/gateway.js';

const NOW = Date.parse('2026-11-25T15:00:00Z');

/** Each stage on its own, on real in-memory stores, a real policy and a real audit file: no app, no server. */
describe('request-path stages', () => {
  let agents: DemoAgents;
  let config: Configuration;
  let runtime: Runtime;
  let deps: GatewayDeps;
  let auditFile: string;
  const approvals = new MemoryApprovalStore();
  const limits = new MemoryLimitStore();

  beforeAll(async () => {
    const scratch = scratchGateway('toolgate-stages-');
    ({ agents, auditFile } = scratch);
    config = resolveOptions({
      policy: { bundle: POLICY_BUNDLE, workers: 0 },
      verifier: await createVerifier({ jwksFiles: [agents.jwksFile], now: () => NOW }),
      audit: { file: auditFile, keyFile: scratch.keyFile },
      approvals,
      limits,
      environment: 'test',
      now: () => NOW,
    });
    runtime = await startRuntime(config);
    deps = { config, runtime: () => runtime, startError: () => undefined, metrics: new GatewayMetrics(() => 0), labels: { id: 'g', version: 'v', environment: 'test' }, logger: config.logger };
  });
  afterAll(async () => {
    await runtime?.engine.close();
    await runtime?.audit.close();
  });

  /** A request as Node hands it to Express: a readable body with its method, target and headers. */
  function request(method: string, target: string, body: string, headers: Record<string, string>, signer?: keyof DemoAgents['keys']): Request {
    const all: Record<string, string> = { host: '127.0.0.1:8080', ...headers };
    if (signer) Object.assign(all, createRequestSigner({ privateJwk: agents.keys[signer], now: () => NOW })({ method, url: `http://127.0.0.1:8080${target}`, headers: all, ...(body ? { body } : {}) }));
    const req = Readable.from(body ? [Buffer.from(body)] : []) as unknown as Request;
    Object.assign(req, { method, url: target, originalUrl: target, headers: Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v])), protocol: 'http' });
    return req;
  }

  function ctxFor(req: Request): CallContext {
    const route = classifyRoute(req.method, req.originalUrl, config)!;
    const res = { on: () => undefined, writeHead: () => undefined, getHeader: () => undefined } as unknown as Response;
    return { req, res, route, target: req.originalUrl, decisionId: `d-${Math.random()}`, nowMs: NOW, started: 0, span: startDecisionSpan('t', context.active(), {}), parent: context.active(), timers: {}, acquired: new Acquired(), runtime };
  }

  /** Runs stages in order, as the middleware does, until one stops. */
  async function run(ctx: CallContext, stages: ((c: CallContext, d: GatewayDeps) => Promise<Stop | void>)[]): Promise<Stop | void> {
    for (const stage of stages) {
      const stop = await stage(ctx, deps);
      if (stop) return stop;
    }
  }

  const email = (to: string, subject = 'Receipts', body = 'ok') => JSON.stringify({ to: [to], subject, body });
  const json = { 'content-type': 'application/json' };

  it('ready: refuses a mis-spelled protected route with its coded error', async () => {
    await expect(ready(ctxFor(request('POST', '/Tools/email.send', '{}', json)), deps)).rejects.toMatchObject({ reason: 'path_noncanonical' });
  });

  it('extract: the call from the exact bytes; refuses a body that is not JSON, and a body on GET /mcp', async () => {
    const ctx = ctxFor(request('POST', '/tools/email.send', email('a@b.example'), json));
    await extract(ctx, deps);
    expect(ctx.call).toMatchObject({ tool: 'email.send', protocol: 'http', args: { to: ['a@b.example'] } });
    expect(ctx.raw?.toString()).toBe(email('a@b.example'));
    await expect(extract(ctxFor(request('POST', '/tools/email.send', 'to=x', { 'content-type': 'text/plain' })), deps)).rejects.toMatchObject({ reason: 'unsupported_media_type' });
    await expect(extract(ctxFor(request('GET', '/mcp', 'x', {})), deps)).rejects.toMatchObject({ reason: 'body_unexpected' });
  });

  it('identify: a signed request gets its agent; an unsigned one stops as unauthenticated (401)', async () => {
    const signed = ctxFor(request('POST', '/tools/email.send', email('a@b.example'), json, 'receipts-bot'));
    expect(await run(signed, [extract, identify])).toBeUndefined();
    expect(signed.agent).toMatchObject({ id: 'receipts-bot', verified: true });
    const stop = await run(ctxFor(request('POST', '/tools/email.send', email('a@b.example'), json)), [extract, identify]);
    expect(stop).toMatchObject({ kind: 'refuse', outcome: 'unauthenticated', refusal: { status: 401 } });
  });

  it('admitMcp: a session nobody opened is 404; a configured method passes; others are refused', async () => {
    const rpc = (method: string, headers: Record<string, string> = {}) => ctxFor(request('POST', '/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method }), { ...json, ...headers }, 'advisor'));
    expect(await run(rpc('tools/list', { 'mcp-session-id': 'nope' }), [extract, identify, admitMcp])).toMatchObject({ kind: 'refuse', refusal: { status: 404 }, reasons: [{ code: 'mcp_session_unknown' }] });
    expect(await run(rpc('tools/list'), [extract, identify, admitMcp])).toMatchObject({ kind: 'pass', reason: { code: 'mcp_passthrough' } });
    expect(await run(rpc('resources/read'), [extract, identify, admitMcp])).toMatchObject({ kind: 'refuse', reasons: [{ code: 'mcp_method_not_allowed' }] });
  });

  it('buildPolicyInput + decide: the gateway\'s facts in the input; a deny stops with 403', async () => {
    const ctx = ctxFor(request('POST', '/tools/email.send', email('x@evil.example'), json, 'receipts-bot'));
    const stop = await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide]);
    expect(ctx.input).toMatchObject({ agent: { id: 'receipts-bot', verified: true }, tool: { name: 'email.send' }, context: { environment: 'test', now_ms: NOW } });
    expect(stop).toMatchObject({ kind: 'refuse', outcome: 'deny', refusal: { status: 403 } });
  });

  it('reserve: the reservation and the spent approval go into the ledger; undo gives both back, once', async () => {
    const args = { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' };
    const pending = newApprovalRecord({ agent: 'receipts-bot', tool: 'email.send', args, reasons: [], decisionId: 'd0', nowMs: NOW });
    await approvals.create(pending);
    await approvals.decide(pending.id, 'finance-lead', 'approve', NOW);
    const ctx = ctxFor(request('POST', '/tools/email.send', JSON.stringify(args), { ...json, 'toolgate-approval': pending.id }, 'receipts-bot'));
    expect(await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide, reserve])).toBeUndefined();
    expect(ctx.binding).toBe(approvalBinding('receipts-bot', 'email.send', args));
    expect(ctx.acquired.size).toBe(2);
    expect((await approvals.get(pending.id))?.status).toBe('used');
    await ctx.acquired.undo(config.logger, ctx.decisionId);
    await ctx.acquired.undo(config.logger, ctx.decisionId);
    expect((await approvals.get(pending.id))?.status).toBe('approved');
  });

  it('extract: a request is judged as of when it had all arrived, not when its headers came (a slow body)', async () => {
    const args = { limit: 5 };
    // Reading the inbox always needs a person. Approved, with an expiry between the headers' arrival (two minutes
    // before NOW) and the body's (NOW).
    const pending = newApprovalRecord({ agent: 'receipts-bot', tool: 'email.read_inbox', args, reasons: [], decisionId: 'd-slow', nowMs: NOW - 200_000, ttlS: 140 });
    await approvals.create(pending);
    await approvals.decide(pending.id, 'finance-lead', 'approve', NOW - 150_000);
    const ctx = { ...ctxFor(request('POST', '/tools/email.read_inbox', JSON.stringify(args), { ...json, 'toolgate-approval': pending.id }, 'receipts-bot')), nowMs: NOW - 120_000 };
    const stop = await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide, reserve]);
    expect(ctx.nowMs).toBe(NOW);
    expect(ctx.input).toMatchObject({ context: { now_ms: NOW } });
    expect(stop).toMatchObject({ kind: 'refuse', reasons: [{ code: 'approval_expired' }] });
    expect((await approvals.get(pending.id))?.status).not.toBe('used');
  });

  it('reserve: a full limit stops with 429 and takes nothing', async () => {
    const full = new MemoryLimitStore();
    const ctx = ctxFor(request('POST', '/tools/email.send', email('accountant@ledger-partners.example'), json, 'receipts-bot'));
    await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide]);
    const limit = ctx.decision!.obligations.limits[0]!;
    for (let i = 0; i < limit.max; i++) expect((await full.reserve([limit], `r${i}`, NOW)).ok).toBe(true);
    const stop = await reserve(ctx, { ...deps, config: { ...config, limits: full } });
    expect(stop).toMatchObject({ kind: 'refuse', refusal: { status: 429 } });
    expect(ctx.acquired.size).toBe(0);
  });

  it('decide: an external decision point (policy.decisionPoint) is held to the same contract', async () => {
    const ctxAt = async () => {
      const ctx = ctxFor(request('POST', '/tools/email.send', email('accountant@ledger-partners.example'), json, 'receipts-bot'));
      await run(ctx, [extract, identify, admitMcp, buildPolicyInput]);
      return ctx;
    };
    const using = (decisionPoint: (input: unknown) => Promise<unknown>) => ({ ...deps, config: { ...config, decisionPoint } });
    const seen: unknown[] = [];
    const deny = { outcome: 'deny', reasons: [{ code: 'sidecar_says_no', message: 'no' }], obligations: {} };
    expect(await decide(await ctxAt(), using(async (input) => (seen.push(input), deny)))).toMatchObject({ kind: 'refuse', reasons: [{ code: 'sidecar_says_no' }] });
    expect(seen[0]).toMatchObject({ agent: { id: 'receipts-bot' } });
    await expect(decide(await ctxAt(), using(async () => undefined))).rejects.toMatchObject({ reason: 'policy_undefined' });
    await expect(decide(await ctxAt(), using(async () => ({ outcome: 'maybe' })))).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(decide(await ctxAt(), using(async () => Promise.reject(new Error('down'))))).rejects.toMatchObject({ reason: 'policy_unavailable' });
  });

  it('record: the allowed decision is durable in the chain before anything runs', async () => {
    const ctx = ctxFor(request('POST', '/tools/email.send', email('accountant@ledger-partners.example'), json, 'receipts-bot'));
    expect(await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide, record])).toBeUndefined();
    expect(readAuditFile(auditFile).find((e) => e.decision_id === ctx.decisionId)).toMatchObject({ outcome: 'allow', agent: { id: 'receipts-bot' } });
  });

  /** Sets a timer and spins until it is due: it fires at the loop's next timers phase, and no sooner. */
  function dueTimer(): { fired: boolean } {
    const timer = { fired: false };
    setTimeout(() => (timer.fired = true), 0);
    const until = performance.now() + 3;
    while (performance.now() < until) {
      // busy until the timer is due
    }
    return timer;
  }

  it('record: a large call\'s event is chained in a later event-loop turn than it is built, so timers and other requests run between', async () => {
    const chainedAfterATurn = async (body: string): Promise<boolean> => {
      const ctx = ctxFor(request('POST', '/tools/email.send', body, json, 'receipts-bot'));
      await run(ctx, [extract, identify, admitMcp, buildPolicyInput, decide]);
      let seen: boolean | undefined;
      const audit = runtime.audit;
      let timer = { fired: false };
      const watched = { ...runtime, audit: { record: (...a: Parameters<typeof audit.record>) => ((seen ??= timer.fired), audit.record(...a)) } } as unknown as Runtime;
      // Started from an I/O callback, as a request's stages are: the phase where one setImmediate is not a turn.
      await new Promise<void>((resolve, reject) =>
        readFile(import.meta.filename, () => {
          timer = dueTimer();
          record({ ...ctx, runtime: watched }, deps).then(() => resolve(), reject);
        }),
      );
      expect(readAuditFile(auditFile).some((e) => e.decision_id === ctx.decisionId)).toBe(true);
      return seen!;
    };
    expect(await chainedAfterATurn(email('accountant@ledger-partners.example'))).toBe(false);
    const large = email('accountant@ledger-partners.example', 'Receipts', 'x'.repeat(LARGE_BODY_BYTES));
    expect(Buffer.byteLength(large)).toBeGreaterThan(LARGE_BODY_BYTES);
    expect(await chainedAfterATurn(large)).toBe(true);
  });

  it('runStages: a large call lets timers run between its stages; a small one runs them back to back', async () => {
    const between = async (bytes: number): Promise<boolean[]> => {
      const ctx = ctxFor(request('POST', '/tools/email.send', '{}', json));
      const seen: boolean[] = [];
      let timer = { fired: false };
      const stage: Stage = async (c) => {
        seen.push(timer.fired);
        c.raw = Buffer.alloc(bytes);
        timer = dueTimer();
      };
      expect(await runStages(ctx, deps, [stage, stage, stage])).toBeUndefined();
      return seen.slice(1);
    };
    expect(await between(1024)).toEqual([false, false]);
    expect(await between(LARGE_BODY_BYTES)).toEqual([true, true]);
  });

  it('Acquired: keep() hands everything to the call; a later undo gives nothing back', async () => {
    const given: string[] = [];
    const a = new Acquired();
    a.add('one', async () => given.push('one'));
    a.keep();
    await a.undo(config.logger, 'd');
    expect(given).toEqual([]);
    expect(() => a.add('late', async () => undefined)).toThrow(/after the call was settled/);
  });
});
