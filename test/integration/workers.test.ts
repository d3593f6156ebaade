import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/agent/sign-request.js';
import { ensureDemoAgents, type DemoAgents } from '../../src/demo/agents.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { waitFor } from '../helpers/services.js';

const exec = promisify(execFile);

interface Served {
  readonly child: ChildProcess;
  readonly line: { listening: string; workers: number; audit: string[] };
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
}

/** `toolgate serve --workers N` from dist/ (what `make test` builds), resolved once it prints its listening line. */
async function serveWorkers(env: Record<string, string>, workers: number): Promise<Served> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--workers', String(workers)], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = await new Promise<Served['line']>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`serve --workers exited with ${code}: ${stderr.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const msg = JSON.parse(l) as Served['line'];
      if (msg.listening) resolve(msg);
    });
  });
  return { child, line, stderr, exited };
}

/** A signed call; `error` is the socket error's code when there was no HTTP answer at all. */
function call(url: string, agents: DemoAgents, agent: keyof DemoAgents['keys'], tool: string, args: Record<string, unknown>): Promise<{ status: number; error?: string }> {
  const body = JSON.stringify(args);
  const target = new URL(`/tools/${tool}`, url);
  const headers = { 'content-type': 'application/json', ...signRequest({ method: 'POST', url: target.href, headers: { 'content-type': 'application/json' }, body }, { privateJwk: agents.keys[agent] }) };
  return new Promise((resolve) => {
    // A connection per call (no keep-alive pool): the primary deals connections, not requests, to the workers.
    const req = request(target, { method: 'POST', agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, error: e.code ?? e.message }));
    req.end(body);
  });
}

/**
 * `toolgate serve --workers 2`: two processes on one port sharing Redis. Limits hold across them, each writes its
 * own audit chain that `toolgate audit verify` accepts, SIGTERM drains (calls in flight are answered, the process
 * exits 0), and without Redis it refuses to start, saying why.
 */
describe('toolgate serve --workers', () => {
  let redis: TestRedis;
  let dir: string;
  let agents: DemoAgents;
  let env: Record<string, string>;
  beforeAll(async () => {
    redis = await startTestRedis();
    dir = mkdtempSync(join(tmpdir(), 'toolgate-workers-'));
    agents = ensureDemoAgents(join(dir, 'agents'));
    env = { TOOLGATE_STATE_DIR: dir, TOOLGATE_AGENT_KEYS: agents.jwksFile, TOOLGATE_POLICY_BUNDLE: POLICY_BUNDLE, TOOLGATE_GATEWAY_ID: 'workers-test', TOOLGATE_REDIS_URL: redis.url, TOOLGATE_REDIS_PREFIX: redis.prefix, TOOLGATE_KAFKA_BROKERS: '' };
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('shares the port and the limits, writes one verifiable audit chain per worker, and drains on SIGTERM', async () => {
    const served = await serveWorkers(env, 2);
    let drained: { status: number; error?: string }[] | undefined;
    try {
      expect(served.line.workers).toBe(2);
      // trade.suggest: 30 a minute for the advisor, asked 40 times at once; the primary deals connections to both.
      const sent = await Promise.all(Array.from({ length: 40 }, () => call(served.line.listening, agents, 'advisor', 'trade.suggest', { symbol: 'VTI' })));
      expect(sent.filter((s) => s.status === 200)).toHaveLength(30);
      expect(sent.filter((s) => s.status === 429)).toHaveLength(10);
      // SIGTERM while calls are on their way: each is either answered or never decided. A connection still in the
      // listen backlog when the port closes is reset (ECONNRESET) or refused, as with one process; none may be cut
      // off after the gateway decided it, which the audit shows below (one decision event per answered call).
      const inFlight = Array.from({ length: 20 }, () => call(served.line.listening, agents, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' }));
      await inFlight[0];
      served.child.kill('SIGTERM');
      drained = await Promise.all(inFlight);
      expect(drained.filter((r) => r.status === 0 && r.error !== 'ECONNREFUSED' && r.error !== 'ECONNRESET')).toEqual([]);
      expect(await served.exited).toBe(0);
    } finally {
      served.child.kill('SIGKILL');
    }
    const decided = served.line.audit.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; tool?: { name: string } }));
    expect(decided.filter((e) => e.type === 'decision' && e.tool?.name === 'memory.read')).toHaveLength(drained!.filter((r) => r.status > 0).length);
    // Both workers decided calls (round-robin), each in its own chain, and each chain verifies with the key.
    for (const file of served.line.audit) {
      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).length).toBeGreaterThan(0);
      const { stdout } = await exec(process.execPath, ['dist/cli/main.js', 'audit', 'verify', '--file', file, '--key', join(dir, 'audit-ed25519.pem')]);
      expect(stdout).toMatch(/^OK: .* 1 chain\(s\)/);
    }
    expect(served.line.audit.map((f) => f.replace(dir, ''))).toEqual(['/audit.w1.jsonl', '/audit.w2.jsonl']);
  }, 60_000);

  it('restarts a worker that dies, which continues its own audit chain', async () => {
    const served = await serveWorkers({ ...env, TOOLGATE_STATE_DIR: join(dir, 'restart'), TOOLGATE_REDIS_PREFIX: `${redis.prefix}restart:` }, 2);
    const workers = async () => (await exec('pgrep', ['-P', String(served.child.pid)]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean).map(Number);
    const read = () => call(served.line.listening, agents, 'room-assistant', 'memory.read', { scope: 'user', owner: 'u1', on_behalf_of: 'u1' });
    try {
      expect((await Promise.all(Array.from({ length: 10 }, read))).map((r) => r.status)).toEqual(Array(10).fill(200));
      const before = await workers();
      expect(before).toHaveLength(2);
      process.kill(before[0]!, 'SIGKILL');
      const after = await waitFor('the killed worker replaced', async () => {
        const now = await workers();
        return now.length === 2 && !now.includes(before[0]!) ? now : undefined;
      }, 30_000, 50);
      expect(after).toContain(before[1]);
      // Both workers answer again (connections are dealt in turn), and each chain goes on where it stopped.
      await waitFor('calls through both workers', async () => {
        const lines = served.line.audit.map((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).length);
        await Promise.all(Array.from({ length: 10 }, read));
        const grown = served.line.audit.map((f, i) => readFileSync(f, 'utf8').split('\n').filter(Boolean).length > lines[i]!);
        return grown.every(Boolean) ? true : undefined;
      }, 30_000, 50);
      served.child.kill('SIGTERM');
      expect(await served.exited).toBe(0);
    } finally {
      served.child.kill('SIGKILL');
    }
    for (const file of served.line.audit) {
      const { stdout } = await exec(process.execPath, ['dist/cli/main.js', 'audit', 'verify', '--file', file, '--key', join(dir, 'restart', 'audit-ed25519.pem')]);
      expect(stdout).toMatch(/^OK: .* 1 chain\(s\)/);
    }
  }, 90_000);

  it('refuses to start several workers without Redis, saying why', async () => {
    const { TOOLGATE_REDIS_URL: _url, ...noRedis } = env;
    const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--workers', '2'], { env: { ...process.env, PORT: '0', ...noRedis, TOOLGATE_REDIS_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/workers_need_redis: --workers 2 runs 2 gateway processes, .* set TOOLGATE_REDIS_URL/);
  }, 30_000);
});
