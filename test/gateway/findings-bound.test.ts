import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A verified agent's arguments whose findings would grow the policy input quadratically (one long member name over
 * thousands of short e-mail addresses, which exhausted the heap while the input was serialised) are
 * refused with 413 findings_too_many, recorded, and the gateway keeps deciding.
 */
describe('arguments with more findings than the policy input may carry', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw?.close());

  it('are refused 413 with a reason code, and the next call is decided as usual', async () => {
    const agent = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys['receipts-bot'] });
    // 140 KB: every address's pointer repeats the 60,000-character name (540 million characters of input unbounded).
    const name = 'k'.repeat(60_000);
    const args = { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok', [name]: Array.from({ length: 9_000 }, () => 'a@b.cd') };
    const refused = await agent.callTool('email.send', args);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ error: 'bad_request', reason: 'findings_too_many' });
    expect(readAuditFile(gw.config.audit.file).find((e) => e.decision_id === refused.decisionId)).toMatchObject({ outcome: 'invalid', reasons: [{ code: 'findings_too_many' }] });
    const next = await agent.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    expect(next.status).toBe(200);
  }, 60_000);
});
