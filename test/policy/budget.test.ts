import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { generateKeyPairSync, sign } from 'node:crypto';
import { loadBundle, PolicyEngine, ProofFailedError, type PolicyBundle, type PolicyInput } from '../../src/policy/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';
import { buildSlowPolicy, RUNAWAY_ARGS } from './slow-policy.js';

const call = (args: Record<string, unknown>) => ({ args }) as unknown as PolicyInput;
const BUDGET_MS = 200;

describe('policy evaluation in worker threads', () => {
  const engines: PolicyEngine[] = [];
  let slow: PolicyBundle;
  const load = async (bundle: PolicyBundle, options: { timeoutMs?: number; workers?: number }) => {
    const engine = await PolicyEngine.load(bundle, 'test', options);
    engines.push(engine);
    return engine;
  };
  beforeAll(async () => {
    slow = await loadBundle(buildSlowPolicy());
  });
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  it('decides every policy fixture exactly as evaluation in this thread does', async () => {
    const engine = await load(await loadBundle(POLICY_BUNDLE), {});
    const dir = 'test/fixtures/policy/inputs';
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const input = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as PolicyInput;
      expect(await engine.decide(input), file).toEqual(engine.evaluate(input));
    }
  });

  it('stops a runaway evaluation at its budget with 503 policy_timeout while the event loop keeps running', async () => {
    const engine = await load(slow, { timeoutMs: BUDGET_MS, workers: 1 });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const started = performance.now();
    const error = await engine.decide(call(RUNAWAY_ARGS)).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    delay.disable();
    expect(error).toMatchObject({ kind: 'unavailable', reason: 'policy_timeout' });
    expect((error as Error).message).toContain(`${BUDGET_MS} ms budget`);
    // The evaluation alone runs for seconds (in this thread the loop would be frozen that long).
    expect(elapsed).toBeGreaterThanOrEqual(BUDGET_MS - 5);
    expect(elapsed).toBeLessThan(BUDGET_MS + 1_500);
    expect(delay.max / 1e6).toBeLessThan(100);
    // The stopped thread is replaced: the next call is decided.
    expect((await engine.decide(call({}))).outcome).toBe('allow');
  });

  it('serves agents in turn: one agent\'s queue of runaway evaluations delays another agent by one of them, not all', async () => {
    const engine = await load(slow, { timeoutMs: BUDGET_MS, workers: 1 });
    const as = (agent: string, args: Record<string, unknown>) => ({ agent: { id: agent }, args }) as unknown as PolicyInput;
    const done: string[] = [];
    const flood = Array.from({ length: 5 }, (_, i) => engine.decide(as('flooder', RUNAWAY_ARGS)).catch(() => undefined).finally(() => done.push(`flooder-${i}`)));
    const victim = engine.decide(as('victim', {})).finally(() => done.push('victim'));
    expect((await victim).outcome).toBe('allow');
    await Promise.all(flood);
    // The first runaway was running, the second had the flooder's turn; then the victim's turn came.
    expect(done.indexOf('victim')).toBeLessThanOrEqual(2);
    expect(done).toHaveLength(6);
  });

  it('keeps deciding other calls while one runs out its budget', async () => {
    const engine = await load(slow, { timeoutMs: BUDGET_MS, workers: 2 });
    let runawayDone = false;
    const runaway = engine.decide(call(RUNAWAY_ARGS)).finally(() => (runawayDone = true));
    for (let i = 0; i < 20; i++) {
      expect((await engine.decide(call({ spin: [1, 2, 3] }))).outcome).toBe('allow');
    }
    expect(runawayDone).toBe(false);
    await expect(runaway).rejects.toMatchObject({ reason: 'policy_timeout' });
  });

  it('decides a call queued behind a runaway once the stopped thread is replaced', async () => {
    const engine = await load(slow, { timeoutMs: BUDGET_MS, workers: 1 });
    const runaway = engine.decide(call(RUNAWAY_ARGS));
    const queued = engine.decide(call({}));
    await expect(runaway).rejects.toMatchObject({ reason: 'policy_timeout' });
    expect((await queued).outcome).toBe('allow');
  });

  it('fails closed with policy_evaluation_failed when the evaluation errors, and goes on deciding', async () => {
    const engine = await load(await loadBundle(POLICY_BUNDLE), { workers: 1 });
    // JSON.stringify writes a lone surrogate as \ud800, which OPA's JSON parser refuses.
    await expect(engine.decide(call({ to: ['x\ud800'] }))).rejects.toMatchObject({ kind: 'unavailable', reason: 'policy_evaluation_failed' });
    const input = JSON.parse(readFileSync('test/fixtures/policy/inputs/email-send-allow.json', 'utf8')) as PolicyInput;
    expect((await engine.decide(input)).outcome).toBe('allow');
  });

  it('fails calls with policy_unavailable once closed', async () => {
    const engine = await PolicyEngine.load(slow, 'test', { timeoutMs: 5_000, workers: 1 });
    const running = engine.decide(call(RUNAWAY_ARGS)).catch((e: unknown) => e);
    const queued = engine.decide(call({})).catch((e: unknown) => e);
    await engine.close();
    expect(await running).toMatchObject({ reason: 'policy_unavailable' });
    expect(await queued).toMatchObject({ reason: 'policy_unavailable' });
    await expect(engine.decide(call({}))).rejects.toMatchObject({ reason: 'policy_unavailable' });
  });

  it.each([
    [{ timeoutMs: 0 }, 'policy_options_invalid'],
    [{ timeoutMs: Number.NaN }, 'policy_options_invalid'],
    [{ workers: 1.5 }, 'policy_options_invalid'],
    [{ workers: 17 }, 'policy_options_invalid'],
    [{ budget: 10 }, 'option_unknown'],
  ])('refuses options %j at start-up (%s)', async (options, reason) => {
    const error = await PolicyEngine.load(slow, 'test', options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ reason });
  });

  it('checks a proof before it evaluates: a signature that fails is never evaluated, one that holds is', async () => {
    const engine = await load(slow, { timeoutMs: 5_000, workers: 1 });
    expect(engine.checksProofs).toBe(true);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const message = Buffer.from('"@method": POST\n"@signature-params": ("@method");created=1');
    const signature = sign(null, message, privateKey);
    const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
    const forged = Buffer.from(signature);
    forged[5] = forged[5]! ^ 1;
    // The runaway input would take seconds to evaluate: a refusal in milliseconds shows it was not evaluated.
    const started = performance.now();
    const refused = await engine.decide(call(RUNAWAY_ARGS), { publicKey: raw, signature: forged, message }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProofFailedError);
    expect(performance.now() - started).toBeLessThan(1_000);
    // Another key, another message: refused the same way.
    const other = Buffer.from((generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
    await expect(engine.decide(call({}), { publicKey: other, signature, message })).rejects.toBeInstanceOf(ProofFailedError);
    await expect(engine.decide(call({}), { publicKey: raw, signature, message: Buffer.concat([message, Buffer.from(' ')]) })).rejects.toBeInstanceOf(ProofFailedError);
    expect((await engine.decide(call({}), { publicKey: raw, signature, message })).outcome).toBe('allow');
    // In-line evaluation (no threads) cannot check a proof: the caller must check it itself.
    const inline = await load(slow, { workers: 0 });
    expect(inline.checksProofs).toBe(false);
    await expect(inline.decide(call({}), { publicKey: raw, signature, message })).rejects.toThrow(/needs evaluator threads/);
  });

  it('never accepts a forged proof, with many in flight, threads replaced under them and messages of every length', async () => {
    // Two threads, 100 in flight, one in three forged, a 5 ms budget so some jobs time out and their threads are
    // replaced while others are in flight. A forged proof the thread accepts would let a forgery be evaluated: never.
    // A genuine proof the thread refuses is what run P's soak and two bench-harness soaks saw (cause not found): the
    // gateway checks every refusal again in line before it refuses (claim.ts), so it costs a call nothing. It is rare
    // (1 in this test's 6,000 in one `make test`; 1 in about 200,000 over 40 runs of this loop at a 1 ms budget), and
    // counted here so that becoming common fails.
    const engine = await load(await loadBundle(POLICY_BUNDLE), { workers: 2, timeoutMs: 5 });
    const keys = Array.from({ length: 3 }, () => generateKeyPairSync('ed25519'));
    const raws = keys.map((k) => Buffer.from((k.publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url'));
    const input = (i: number) => ({ agent: { id: `agent-${i % 5}` }, tool: { name: 'email.send' }, args: { to: ['accountant@ledger-partners.example'], subject: 's', body: 'b' } }) as unknown as PolicyInput;
    let forgedAccepted = 0;
    let genuineRefused = 0;
    let judged = 0;
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < 6_000; i++) {
      const message = Buffer.from(`"@method": POST\n"nonce": ${i} ${'x'.repeat(i % 900)}`);
      const signature = sign(null, message, keys[i % 3]!.privateKey);
      const genuine = i % 3 !== 0;
      if (!genuine) signature[i % 64] = signature[i % 64]! ^ (1 << (i % 8));
      const p: Promise<void> = engine.decide(input(i), { publicKey: raws[i % 3]!, signature, message }).then(
        () => void (judged++, genuine || forgedAccepted++),
        (e: unknown) => void (e instanceof ProofFailedError && (judged++, genuine && genuineRefused++)),
      ).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 100) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    expect(forgedAccepted).toBe(0);
    expect(genuineRefused).toBeLessThanOrEqual(2);
    expect(judged).toBeGreaterThan(2_000); // the rest ran out of the 5 ms budget: a verdict-free run proves nothing
  }, 60_000);
});
