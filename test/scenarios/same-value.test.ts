import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleTools } from '../../src/server/example-tools.js';
import { agent, expectOutcome, MARKET_OPEN, type Protocol } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ACCOUNTANT = 'accountant@ledger-partners.example';
const PHONE = '+1 212 555 0100';
const MAIL = 'jane.doe@example.com';

/** Recipients that look like an allowlisted address once folded or trimmed, and other addresses no mailer should get. */
const MALFORMED: [string, string][] = [
  ['Kelvin sign (lowers to the allowlisted backup@)', 'bac\u212Aup@ledger-partners.example'],
  ['leading no-break space', `\u00a0${ACCOUNTANT}`],
  ['trailing CRLF', `${ACCOUNTANT}\r\n`],
  ['trailing tab', `${ACCOUNTANT}\t`],
  ['zero-width space', 'acc\u200bountant@ledger-partners.example'],
  ['header injection', `${ACCOUNTANT}\nBcc: eve@attacker.example`],
  ['display name', `Accountant <${ACCOUNTANT}>`],
  ['two addresses in one', `${ACCOUNTANT},eve@attacker.example`],
];

/**
 * Issue 8, point 6: the policy judges exactly the value the tool uses. A recipient is compared as the tool will send
 * it (never case-folded or trimmed first) and refused when it is not a plain address; PII bound for a shared room
 * is redacted wherever the detectors found it, not only in args.content, so memory.read never returns it.
 */
describe.each<Protocol>(['http', 'mcp'])('policy and tool judge the same value, over %s', (protocol) => {
  const demo = exampleTools();
  let gw: TestGateway;
  let receipts: ReturnType<typeof agent>;
  let room: ReturnType<typeof agent>;
  beforeAll(async () => {
    gw = await startTestGateway({}, { tools: demo.tools, now: () => MARKET_OPEN });
    receipts = agent(gw.url, gw.agents.keys['receipts-bot']);
    room = agent(gw.url, gw.agents.keys['room-assistant']);
  });
  afterAll(() => gw?.close());

  it.each(MALFORMED)('refuses a recipient with a %s and sends nothing', async (_, address) => {
    const before = demo.outbox.length;
    const o = await receipts('email.send', { to: [address], subject: 'Receipts', body: 'attached' }, protocol);
    expectOutcome(o, 403, ['recipient_malformed']);
    expect(JSON.stringify(o.raw.body)).toContain('args.to[0]');
    expect(demo.outbox.length).toBe(before);
  });

  it('refuses a malformed cc even when every other recipient is allowed', async () => {
    const o = await receipts('email.send', { to: [ACCOUNTANT], cc: [`${ACCOUNTANT} `], subject: 'Receipts', body: 'x' }, protocol);
    expectOutcome(o, 403, ['recipient_malformed']);
    expect(JSON.stringify(o.raw.body)).toContain('args.cc[0]');
  });

  it('compares the local part exactly and the domain case-insensitively, and the tool gets the address as judged', async () => {
    expectOutcome(await receipts('email.send', { to: ['Accountant@ledger-partners.example'], subject: 'Receipts', body: 'x' }, protocol), 403, ['recipient_not_allowed']);
    const address = 'accountant@Ledger-Partners.EXAMPLE';
    expectOutcome(await receipts('email.send', { to: [address], subject: 'Receipts', body: 'x' }, protocol), 200);
    expect(demo.outbox.at(-1)).toMatchObject({ to: [address] });
  });

  it('redacts PII wherever it sits in a write to a shared room, and memory.read returns none of it', async () => {
    const roomId = `room-${protocol}`;
    const args = {
      scope: 'room', room: roomId, on_behalf_of: 'u1', label: 'internal', retention_days: 10,
      content: 'standup moved to 10:00',
      notes: { content: `call Jane on ${PHONE}` },
      tags: ['ops', `cc ${MAIL}`],
      'a/b~c': { deeper: [{ text: `mail ${MAIL}` }] },
    };
    expectOutcome(await room('memory.write', args, protocol), 200);
    const read = await room('memory.read', { scope: 'room', room: roomId, on_behalf_of: 'u1', into_room: roomId }, protocol);
    expectOutcome(read, 200);
    const text = JSON.stringify(read.result);
    expect(text).not.toContain(MAIL);
    expect(text).not.toContain('555 0100');
    expect(text).toContain('[REDACTED:email]');
    expect(text).toContain('standup moved to 10:00'); // what no detector flagged is kept
    const stored = demo.memories.find((m) => (m as { room?: string }).room === roomId) as typeof args;
    expect(stored.notes.content).not.toContain('555 0100');
    expect(stored.tags).toEqual(['ops', 'cc [REDACTED:email]']);
    expect(stored['a/b~c'].deeper[0]!.text).toBe('mail [REDACTED:email]');
  });

  it('keeps PII in a user’s own memory as written', async () => {
    const owner = `u-${protocol}`;
    const args = { scope: 'user', owner, on_behalf_of: owner, label: 'internal', retention_days: 10, content: 'x', notes: { content: `call ${PHONE}` } };
    expectOutcome(await room('memory.write', args, protocol), 200);
    const stored = demo.memories.find((m) => (m as { owner?: string }).owner === owner) as typeof args;
    expect(stored.notes.content).toBe(`call ${PHONE}`);
  });
});
