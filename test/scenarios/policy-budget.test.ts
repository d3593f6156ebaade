import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleTools } from '../../src/server/example-tools.js';
import { readAuditFile } from '../helpers/audit.js';
import { agent, MARKET_OPEN } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';
import { buildSlowPolicy, RUNAWAY_ARGS } from '../policy/slow-policy.js';

/** The engine's default budget (PolicyEngineOptions.timeoutMs). */
const BUDGET_MS = 500;

/**
 * Issue 8, point 3: a policy that runs away must not stall the gateway. Behind a deliberately slow policy
 * (test/fixtures/policy/slow, which allows every call once it has compared every pair in args.spin), a call whose
 * evaluation runs past the budget fails closed with 503 policy_timeout, recorded, its tool never run, while
 * /healthz and other calls are answered meanwhile.
 */
describe('a runaway policy evaluation', () => {
  const demo = exampleTools();
  let gw: TestGateway;
  let bot: ReturnType<typeof agent>;
  beforeAll(async () => {
    gw = await startTestGateway({ TOOLGATE_POLICY_BUNDLE: buildSlowPolicy() }, { tools: demo.tools, now: () => MARKET_OPEN });
    bot = agent(gw.url, gw.agents.keys['receipts-bot']);
  });
  afterAll(() => gw?.close());

  it('fails closed with 503 policy_timeout while the gateway keeps serving', async () => {
    const started = performance.now();
    let settledAt = 0;
    const runaway = bot('email.send', { to: ['a@b.example'], ...RUNAWAY_ARGS }).finally(() => (settledAt = performance.now()));

    // Meanwhile: health checks and other calls are answered, each well within the budget.
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      const other = await bot('email.send', { to: ['a@b.example'], spin: [1, 2, 3] });
      expect(other.status, JSON.stringify(other.raw.body)).toBe(200);
      expect(performance.now() - t).toBeLessThan(BUDGET_MS);
    }
    expect(settledAt).toBe(0);

    const o = await runaway;
    expect(o.status).toBe(503);
    expect(o.raw.body).toMatchObject({ error: 'unavailable', reason: 'policy_timeout' });
    expect(settledAt - started).toBeLessThan(BUDGET_MS + 2_000); // the evaluation alone would run for seconds
    expect(demo.outbox).toHaveLength(5); // the other calls only

    const event = await waitFor('the refusal in the audit log', async () => readAuditFile(gw.config.audit.file).find((e) => e.decision_id === o.decisionId));
    expect(event).toMatchObject({ outcome: 'error', reasons: [expect.objectContaining({ code: 'policy_timeout' })] });
  });
});
