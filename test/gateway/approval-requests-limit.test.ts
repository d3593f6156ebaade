import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { APPROVAL_REQUESTS } from '../../src/gateway/stages/decide.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** One agent asking for approvals in a loop runs into its own hourly bound; the store and other agents are unaffected. */
describe('approval requests per agent', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it(`are bounded at ${APPROVAL_REQUESTS.max} an hour, refused 429 after, and another agent still asks`, async () => {
    const flooder = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    for (let i = 0; i < APPROVAL_REQUESTS.max; i++) {
      const r = await flooder.callTool('email.read_inbox', { limit: i + 1 });
      expect(r.status, `request ${i}`).toBe(202);
    }
    const over = await flooder.callTool('email.read_inbox', { limit: 1000 });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'approval_requests_limited' }] });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['room-assistant'] });
    const asked = await other.callTool('memory.forget', { scope: 'user', owner: 'alice', id: 'mem_1' });
    expect(asked.status).toBe(202);
  }, 120_000);
});
