import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/agent/sign-request.js';
import { ensureDemoAgents, type DemoAgents } from '../../src/demo/agents.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolHandler } from '../../src/server/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { haveSentinel, startSentinelTopology, type SentinelTopology } from '../helpers/redis-ha.js';
import { integration, waitFor } from '../helpers/services.js';

// Every request that needs Redis fails closed with one of these (README, request errors) and nothing else.
const REDIS_REASONS = ['replay_store_unavailable', 'limits_unavailable', 'approvals_unavailable', 'uploads_unavailable', 'mcp_sessions_unavailable'];
// No request may take longer than this, failover or not: commandTimeout (2 s) plus the gateway's own work.
const BOUND_MS = 5000;
// Both gateways sit behind one name, as behind a load balancer: the signature covers that authority.
const AUTHORITY = 'gateway.internal';

interface Sent {
  readonly status: number;
  readonly reason: string | undefined;
  readonly ms: number;
  readonly start: number;
  readonly signature: string;
  readonly doc: Record<string, unknown> | undefined;
  /** Sends the same signed bytes again (a replay) to `port`. */
  replay(port: number): Promise<Sent>;
}

function post(port: number, headers: Record<string, string>, path: string, body: string): Promise<Sent> {
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (status: number, text: string): void => {
      let doc: { reason?: string; reasons?: { code: string }[] } | undefined;
      try {
        doc = JSON.parse(text) as typeof doc;
      } catch {
        doc = undefined;
      }
      const reason = doc?.reason ?? doc?.reasons?.[0]?.code;
      resolve({ status, reason, doc, ms: performance.now() - start, start, signature: headers['signature-input'] ?? '', replay: (p) => post(p, headers, path, body) });
    };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, host: AUTHORITY, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done(res.statusCode ?? 0, text));
    });
    // A hung request is a failure of the fail-closed contract: it shows up as status 0.
    req.setTimeout(BOUND_MS * 2, () => req.destroy());
    req.on('error', () => done(0, ''));
    req.end(body);
  });
}

/**
 * Redis Sentinel (one primary, two replicas, three sentinels, scripts/redis-ha.sh) under two gateway instances:
 * shared limits, approvals and nonces hold across them; a write no replica confirmed is refused (WAIT); and when
 * the primary is killed mid-load, no call runs twice, no limit is exceeded, calls fail closed with 503 (never hang,
 * never another 5xx) and succeed again once Sentinel has promoted a replica, without restarting anything.
 */
describe.skipIf(!haveSentinel() && !integration)('Redis Sentinel failover under two gateways', () => {
  let topo: SentinelTopology;
  let agents: DemoAgents;
  let a: TestGateway;
  let b: TestGateway;
  let c: TestGateway | undefined;
  let d: TestGateway | undefined;
  // Executions of each signed request, keyed by its Signature-Input (unique: it carries the nonce).
  const runs = new Map<string, number>();
  const runsOf = (tool: string) => [...runs].filter(([k]) => k.startsWith(`${tool} `));

  const call = (gw: TestGateway, agent: keyof DemoAgents['keys'], tool: string, args: Record<string, unknown>, extra: Record<string, string> = {}): Promise<Sent> => {
    const body = JSON.stringify(args);
    const path = `/tools/${tool}`;
    const base = { 'content-type': 'application/json', ...extra };
    const headers = { ...base, ...signRequest({ method: 'POST', url: `http://${AUTHORITY}${path}`, headers: base, body }, { privateJwk: agents.keys[agent] }) };
    return post(gw.port, headers, path, body);
  };

  const tools: Record<string, ToolHandler> = {};
  beforeAll(async () => {
    topo = await startSentinelTopology();
    agents = ensureDemoAgents(join(mkdtempSync(join(tmpdir(), 'toolgate-ha-')), 'agents'));
    for (const [name, handler] of Object.entries(exampleTools().tools)) {
      tools[name] = (args, req: Request) => {
        const key = `${name} ${req.get('signature-input') ?? ''}`;
        runs.set(key, (runs.get(key) ?? 0) + 1);
        return handler(args, req);
      };
    }
    // A short WAIT timeout so the replica test below fails closed quickly; the default is 500 ms.
    const env = { TOOLGATE_REDIS_URL: `${topo.url}?waitTimeoutMs=300`, TOOLGATE_REDIS_PREFIX: 'ha-test:' };
    a = await startTestGateway(env, { agents, tools });
    b = await startTestGateway(env, { agents, tools });
  }, 60_000);

  afterAll(async () => {
    // The topology first: its six processes are daemons that nothing else stops if closing a gateway hangs (a run
    // that timed out left them behind). The gateways' clients then fail fast and close.
    try {
      await topo?.down();
    } finally {
      for (const gw of [a, b, c, d]) await gw?.close();
    }
  }, 60_000);

  it('lets a process whose Sentinel clients were closed exit (quit() alone left the sentinel connections open)', async () => {
    const script = `import { connectRedis } from './dist/redis/connect.js';
      const c = await connectRedis(process.argv[1], { reason: 'x', purpose: 'test' });
      if ((await c.sendCommand('PING')) !== 'PONG') process.exit(3);
      await c.onClose();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, topo.url], { stdio: 'ignore' });
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => resolve('still running'), 15_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    if (code === 'still running') child.kill('SIGKILL');
    expect(code).toBe(0);
  }, 30_000);

  it('holds exactly-N limits, single-use approvals and nonces across both gateways', async () => {
    // trade.suggest: 30 a minute for the advisor, asked 36 times at once through both instances.
    const sent = await Promise.all(Array.from({ length: 36 }, (_, i) => call(i % 2 ? a : b, 'advisor', 'trade.suggest', { symbol: 'VTI' })));
    expect(sent.filter((s) => s.status === 200)).toHaveLength(30);
    expect(sent.filter((s) => s.status === 429)).toHaveLength(6);
    expect(runsOf('trade.suggest')).toHaveLength(30);

    const first = await call(a, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' });
    const replayed = await first.replay(b.port);
    expect([first.status, replayed.status, replayed.reason]).toEqual([200, 401, 'replayed']);

    const asked = await call(a, 'receipts-bot', 'email.read_inbox', {});
    expect(asked.status).toBe(202);
    const id = (asked.doc as { approval: { id: string } }).approval.id;
    const approver = (gw: TestGateway) => {
      const path = `/approvals/${id}/approve`;
      return post(gw.port, signRequest({ method: 'POST', url: `http://${AUTHORITY}${path}`, headers: {}, body: '' }, { privateJwk: agents.keys['finance-lead'] }), path, '');
    };
    expect((await approver(b)).status).toBe(200);
    // The approved call, sent to both instances at once: one runs, the other is told the approval is spent.
    const spent = await Promise.all([a, b].map((gw) => call(gw, 'receipts-bot', 'email.read_inbox', {}, { 'toolgate-approval': id })));
    expect(spent.map((s) => s.status).sort()).toEqual([200, 403]);
    expect(spent.find((s) => s.status === 403)?.reason).toBe('approval_used');
    expect(runsOf('email.read_inbox')).toHaveLength(1);
  });

  it('refuses a write no replica confirmed (WAIT) with 503, and accepts again once the replicas answer', async () => {
    const primary = await topo.primaryPort();
    const replicas = topo.nodePorts.filter((p) => p !== primary).map((p) => topo.pidOf(p));
    const before = runs.size;
    // Stopped replicas still look connected to the primary, which takes writes: exactly the writes a failover at
    // this moment would lose. Without WAIT the call would run (200) on a nonce no replica has.
    for (const pid of replicas) process.kill(pid, 'SIGSTOP');
    try {
      const refused = await call(a, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' });
      expect([refused.status, refused.reason]).toEqual([503, 'replay_store_unavailable']);
      expect(refused.ms).toBeLessThan(BOUND_MS);
    } finally {
      for (const pid of replicas) process.kill(pid, 'SIGCONT');
    }
    expect(runs.size).toBe(before);
    await waitFor('a call accepted once the replicas are back', async () => ((await call(b, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' })).status === 200 ? true : undefined), 20_000);
  }, 30_000);

  const jobs = [
    (gw: TestGateway) => call(gw, 'receipts-bot', 'email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'x' }),
    (gw: TestGateway) => call(gw, 'room-assistant', 'memory.write', { scope: 'user', owner: 'u1', on_behalf_of: 'u1', label: 'internal', content: 'note', retention_days: 3 }),
    (gw: TestGateway) => call(gw, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' }),
  ];
  const TOOLS = ['email.send', 'memory.write', 'memory.read'];
  // The demo policy's limits of those tools (a file's run is shorter than their windows, so totals must stay under).
  const MAX = [20, 60, 120];

  /**
   * Four callers, round-robin over the tools and both gateways; `fault` runs once `ready` holds, and returns when
   * the sentinels name a new primary. The load stops once 20 answers came after the fault that were not 503 (after at
   * least one 503, if `expectOutage`). Then the invariants: only 200, 429 or a Redis 503, no hang, nothing run twice,
   * no limit exceeded, and every nonce accepted before the fault still spent after it.
   */
  async function loadThrough(name: string, [g1, g2]: readonly [TestGateway, TestGateway], ready: (r: readonly (Sent & { tool: number })[]) => boolean, fault: () => Promise<void>, expectOutage: boolean): Promise<void> {
    const results: (Sent & { tool: number; gw: TestGateway })[] = [];
    let faultAt = 0;
    // Set once the sentinels name another primary: answers after it show recovery (before it, the old one served).
    let switchedAt = 0;
    let after = 0;
    let next = 0;
    const deadline = performance.now() + 90_000;
    const caller = async (): Promise<void> => {
      while (performance.now() < deadline && after < 20) {
        const n = next++;
        const gw = n % 2 ? g1 : g2;
        const tool = Math.floor(n / 2) % jobs.length;
        const r = await jobs[tool]!(gw);
        results.push({ ...r, tool, gw });
        if (switchedAt && r.start > switchedAt && r.status !== 503 && (!expectOutage || results.some((x) => x.status === 503))) after++;
      }
    };
    const load = Promise.all([caller(), caller(), caller(), caller()]);
    await waitFor(`load before the ${name}`, async () => (ready(results) ? true : undefined), 20_000, 5);
    const old = await topo.primaryPort();
    faultAt = performance.now();
    await fault();
    await waitFor('a replica promoted', async () => {
      const p = await topo.primaryPort();
      return p !== undefined && p !== old ? p : undefined;
    }, 30_000, 20);
    switchedAt = performance.now();
    const failoverMs = switchedAt - faultAt;
    await load;

    const statuses = new Set(results.map((r) => r.status));
    const unavailable = results.filter((r) => r.status === 503);
    // From the first 503 sent to the last 503 answered: how long callers saw the outage.
    const errorWindowMs = unavailable.length ? Math.max(...unavailable.map((r) => r.start + r.ms)) - Math.min(...unavailable.map((r) => r.start)) : 0;
    console.info(JSON.stringify({
      [name]: { calls: results.length, failed_closed: unavailable.length, failover_ms: Math.round(failoverMs),
        error_window_ms: Math.round(errorWindowMs), max_latency_ms: Math.round(Math.max(...results.map((r) => r.ms))), status: [...statuses].sort(),
        reasons: Object.fromEntries([...new Set(unavailable.map((r) => r.reason))].map((k) => [k, unavailable.filter((r) => r.reason === k).length])),
        messages: [...new Set(unavailable.map((r) => String((r.doc as { message?: string } | undefined)?.message ?? '').slice(0, 140)))].slice(0, 4) },
    }));

    expect(after, await topo.status()).toBeGreaterThanOrEqual(20);
    // Fail closed, never another error, never a hang.
    expect([...statuses].every((s) => [200, 429, 503].includes(s))).toBe(true);
    if (expectOutage) expect(unavailable.length).toBeGreaterThan(0);
    expect(unavailable.every((r) => REDIS_REASONS.includes(r.reason ?? ''))).toBe(true);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(BOUND_MS);
    // Nothing ran twice, every 200 ran, and no limit was exceeded across the failover.
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    TOOLS.forEach((tool, i) => {
      expect(results.filter((r) => r.tool === i && r.status === 200).every((r) => runs.get(`${tool} ${r.signature}`) === 1)).toBe(true);
      expect(runsOf(tool).length).toBeLessThanOrEqual(MAX[i]!);
    });
    // Every nonce a caller saw accepted before the fault is still spent on the new primary: replays are refused.
    // Asked once the new primary takes writes again through both gateways (a fresh call answered by each), since a replay answered 503 proves
    // nothing, and retrying it would not either (the refused attempt may have spent the nonce itself).
    for (const gw of [g1, g2]) await waitFor('the new primary taking writes from both gateways', async () => ((await jobs[2]!(gw)).status !== 503 ? true : undefined), 30_000, 50);
    const acceptedBefore = results.filter((r) => r.status === 200 && r.start + r.ms <= faultAt);
    expect(acceptedBefore.length).toBeGreaterThan(0);
    const replays = await Promise.all(acceptedBefore.map((r) => r.replay((r.gw === g1 ? g2 : g1).port)));
    expect(replays.filter((r) => r.reason !== 'replayed').map((r) => `${r.status} ${r.reason} ${String((r.doc as { message?: string } | undefined)?.message)}`)).toEqual([]);
  }

  it('fails closed while the primary is killed mid-load, runs nothing twice, exceeds no limit, and recovers', async () => {
    // Killed once email.send has used 8 of its 20 an hour, so reservations are being written.
    await loadThrough('redis_failover_kill', [a, b], (r) => r.filter((x) => x.tool === 0 && x.status === 200).length >= 8, async () => {
      process.kill(topo.pidOf((await topo.primaryPort())!), 'SIGKILL');
    }, true);
  }, 150_000);

  it('follows a manual failover (SENTINEL FAILOVER: the old primary demoted while the gateways hold connections to it)', async () => {
    // The node killed above comes back empty; the sentinels make it a replica of the new primary. Until both
    // replicas are online again a failover would leave the new primary with no replica (writes refused, WAIT).
    const dead = topo.nodePorts.filter((p) => { try { process.kill(topo.pidOf(p), 0); return false; } catch { return true; } });
    for (const p of dead) await topo.restart(p);
    await waitFor('both replicas online', async () => ((await topo.onlineReplicas()) === 2 ? true : undefined), 60_000, 100);
    // With one replica to confirm (the default), a graceful failover can lose writes: the old primary takes writes
    // until the gateways switch, and its other replica confirms them, until the sentinels point that replica at the
    // new primary. Confirming by both replicas closes that (README, Production topology), at the price of failing
    // closed whenever a replica is down, so these two gateways ask for two.
    const env = { TOOLGATE_REDIS_URL: `${topo.url}?waitReplicas=2&waitTimeoutMs=300`, TOOLGATE_REDIS_PREFIX: 'ha-test:' };
    c = await startTestGateway(env, { agents, tools });
    d = await startTestGateway(env, { agents, tools });
    await loadThrough('redis_failover_manual', [c, d], (r) => r.filter((x) => x.status === 200).length >= 5, async () => {
      await topo.sentinel('failover');
    }, false);
  }, 150_000);
});
