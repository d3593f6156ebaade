import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestSigner } from '../../src/agent/sign-request.js';
import { DEFAULT_CHECK_PLACEMENT, setSignatureCheckPlacement } from '../../src/identity/check-placement.js';
import { claimLane } from '../../src/gateway/stages/claim.js';
import type { EvaluatorLoad } from '../../src/policy/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { buildSlowPolicy, RUNAWAY_ARGS } from '../policy/slow-policy.js';

/**
 * A claim (a call whose signature the evaluator thread checks, stages/claim.ts) waits for a thread before its check.
 * Queued under its claimed agent alone, a flood of forgeries naming one agent's key would line up ahead of that
 * agent's genuine calls, each behind a turn of every other agent's queue: with another agent's slow evaluations
 * holding the threads, the genuine call would wait for the whole flood. Claims queue per agent and address instead.
 */

const FORGERIES = 4;
/** The other agent's slow calls waiting beyond those the threads run. */
const RUNAWAYS_QUEUED = 4;

describe('claims wait in their own queue per agent and address', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    setSignatureCheckPlacement('evaluator');
    // The slow policy allows every call without `spin`; with RUNAWAY_ARGS it runs until its budget stops it. A budget
    // long enough that the calls below reach their queues while the first runaways still run: a thread being
    // replaced (after a runaway's budget) cannot check proofs, and a claim then is checked on arrival, never queued.
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: buildSlowPolicy(), TOOLGATE_POLICY_TIMEOUT_MS: '2000' });
  }, 60_000);
  afterAll(async () => {
    setSignatureCheckPlacement(DEFAULT_CHECK_PLACEMENT);
    await gw?.close();
  });

  const load = (): EvaluatorLoad => gw.gate.readiness().policyStatus!.evaluators!;
  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(load())}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** A signed POST to a tool from `from` (a loopback address of this machine); its status, in the order answers came. */
  function post(agent: 'receipts-bot' | 'advisor', tool: string, args: unknown, from: string, forge = false): Promise<number> {
    const url = `${gw.url}/tools/${tool}`;
    const body = JSON.stringify(args);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...createRequestSigner({ privateJwk: gw.agents.keys[agent], expiresIn: 60 })({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }) };
    if (forge) headers.signature = headers.signature!.replace(/=:(.)/, (_, c: string) => `=:${c === 'A' ? 'B' : 'A'}`);
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const req = request({ host: hostname, port, path: `/tools/${tool}`, method: 'POST', headers, localAddress: from, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('serves an agent\'s genuine call in its turn while forgeries naming it from another address wait in theirs', async () => {
    const threads = load().threads;
    // Another agent keeps every thread busy with slow evaluations, more of them queued (its bodies are too big to be
    // claims: checked on arrival, queued as that agent's).
    const runaways = Array.from({ length: threads + RUNAWAYS_QUEUED }, () => post('advisor', 'trade.suggest', RUNAWAY_ARGS, '127.0.0.1'));
    await until('the runaways to hold every thread, the rest queued', () => load().busy === threads && load().queued === RUNAWAYS_QUEUED);
    // Forgeries naming receipts-bot's key from 127.0.0.2, then receipts-bot's own call from 127.0.0.1.
    const forgeries = Array.from({ length: FORGERIES }, (_, i) => post('receipts-bot', 'email.send', { to: ['accountant@ledger-partners.example'], subject: `f${i}` }, '127.0.0.2', true));
    await until('the forgeries to queue', () => load().queued === RUNAWAYS_QUEUED + FORGERIES);
    const genuine = post('receipts-bot', 'email.send', { to: ['accountant@ledger-partners.example'], subject: 'receipts' }, '127.0.0.1').then((status) => ({ status, waiting: load().queued }));
    await until('the genuine call to queue', () => load().queued === RUNAWAYS_QUEUED + FORGERIES + 1);

    const answer = await genuine;
    expect(answer.status).toBe(200);
    // Served in its own queue's first turn, while most of the others still waited. With one queue for the agent it
    // came after every forgery, each of them after one of the other agent's slow turns: nearly nothing left waiting.
    expect(answer.waiting).toBeGreaterThanOrEqual(FORGERIES);
    expect(await Promise.all(forgeries)).toEqual(Array.from({ length: FORGERIES }, () => 401));
    expect((await Promise.all(runaways)).every((status) => status === 503)).toBe(true);
  }, 60_000);

  it('keys a claim by its claimed agent and the address it came from', () => {
    expect(claimLane('receipts-bot', '127.0.0.1')).not.toBe(claimLane('receipts-bot', '127.0.0.2'));
    expect(claimLane('receipts-bot', '127.0.0.1')).not.toBe(claimLane('advisor', '127.0.0.1'));
    expect(claimLane('receipts-bot', '127.0.0.1')).toBe(claimLane('receipts-bot', '127.0.0.1'));
  });
});
