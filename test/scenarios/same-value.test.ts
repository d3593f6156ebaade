import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyEvents } from '../../src/audit/index.js';
import { exampleTools } from '../../src/server/example-tools.js';
import { readAuditFile } from '../helpers/audit.js';
import { agent, expectOutcome, MARKET_OPEN, type Protocol } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { waitFor } from '../helpers/services.js';

const ACCOUNTANT = 'accountant@ledger-partners.example';
const PHONE = '+1 212 555 0100';
const MAIL = 'jane.doe@example.com';
const AWS = 'AKIAIOSFODNN7EXAMPLE';

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

  // A detector finding in a member name counts like one in a value (issue 8, points 4 and 6): PII used as a key is
  // redacted on its way into a room; a credential used as a key is refused, and the audit file keeps no trace of it.
  it('a memory.write to a room with an e-mail address as a key stores it redacted, and memory.read returns none', async () => {
    const roomId = `names-${protocol}`;
    const args = {
      scope: 'room', room: roomId, on_behalf_of: 'u1', label: 'internal', retention_days: 10,
      content: 'contacts',
      notes: { [MAIL]: 'met at standup', plain: 'kept' },
      people: [{ [`cc ${MAIL}`]: true }],
    };
    expectOutcome(await room('memory.write', args, protocol), 200);
    const stored = demo.memories.find((m) => (m as { room?: string }).room === roomId);
    expect(JSON.stringify(stored)).not.toContain(MAIL);
    expect(stored).toMatchObject({ notes: { '[REDACTED:email]': 'met at standup', plain: 'kept' }, people: [{ 'cc [REDACTED:email]': true }] });
    const read = await room('memory.read', { scope: 'room', room: roomId, on_behalf_of: 'u1', into_room: roomId }, protocol);
    expectOutcome(read, 200);
    expect(JSON.stringify(read.result)).not.toContain(MAIL);
    expect(JSON.stringify(read.result)).toContain('met at standup');
  });

  it('an email.send with an AWS key as a member name is refused and its audit record has no trace of the key', async () => {
    const before = demo.outbox.length;
    const o = await receipts('email.send', { to: [ACCOUNTANT], subject: 'Receipts', body: 'attached', meta: { [AWS]: 'x' } }, protocol);
    expectOutcome(o, 403, ['secret_in_args']);
    expect(demo.outbox.length).toBe(before);
    const event = await waitFor('the decision event', async () => readAuditFile(gw.config.audit.file).find((e) => e.decision_id === o.decisionId && e.type === 'decision'));
    assertAuditEvent(event);
    expect(event.outcome).toBe('deny');
    expect(event.masked).toContain('/input/args/meta/[REDACTED:aws_access_key]');
    expect((event.input as { findings: unknown }).findings).toMatchObject({ secrets: [{ type: 'aws_access_key', pointer: '/args/meta', in: 'name' }] });
    expect(readFileSync(gw.config.audit.file, 'utf8')).not.toContain(AWS);
    expect(verifyEvents(readAuditFile(gw.config.audit.file)).ok).toBe(true);
  });

  it('keeps PII in a user’s own memory as written', async () => {
    const owner = `u-${protocol}`;
    const args = { scope: 'user', owner, on_behalf_of: owner, label: 'internal', retention_days: 10, content: 'x', notes: { content: `call ${PHONE}` } };
    expectOutcome(await room('memory.write', args, protocol), 200);
    const stored = demo.memories.find((m) => (m as { owner?: string }).owner === owner) as typeof args;
    expect(stored.notes.content).toBe(`call ${PHONE}`);
  });
});
