import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import { UsageError } from '../../src/cli/audit.js';
import { main } from '../../src/cli/main.js';
import type { SimulationReport } from '../../src/policy/simulate-types.js';
import { POLICY_BUNDLE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { buildBundle } from './bundles.js';
import { simulate } from './simulate-cli.js';
import { MARKET_OPEN, recordTraffic, type Traffic } from './simulate-traffic.js';

async function simulateJson(args: string[]): Promise<{ code: number; report: SimulationReport }> {
  const { code, out } = await simulate([...args, '--json']);
  return { code, report: JSON.parse(out) as SimulationReport };
}

/** A copy of the recorded file with its lines changed by `edit` (and lines appended), for the file's edge cases. */
function derived(file: string, edit: (e: AuditEvent, i: number) => AuditEvent, extra = ''): string {
  const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
  const out = join(mkdtempSync(join(tmpdir(), 'toolgate-simulate-')), 'audit.jsonl');
  writeFileSync(out, `${events.map((e, i) => JSON.stringify(edit(e, i))).join('\n')}\n`);
  if (extra) appendFileSync(out, extra);
  return out;
}

describe('toolgate policy simulate --file (traffic recorded by the real gateway)', () => {
  let gw: TestGateway;
  let traffic: Traffic;
  let file: string;
  let events: AuditEvent[];
  /** The demo policy with the per-order cap lowered from 10,000 to 4,000 (bundle.tar.gz, as opa build writes it). */
  let tighter: string;
  /** The demo policy with receipts-bot's allowed recipients emptied: its emails change, the masked one included. */
  let noRecipients: string;
  /** The demo policy with a smaller daily trading budget: the same outcomes, a different limit obligation. */
  let smallerBudget: string;

  beforeAll(async () => {
    tighter = buildBundle({ revision: 'cap-4000', data: (d) => void (d.toolgate.config.trade.max_order_notional = 4_000) });
    noRecipients = buildBundle({ revision: 'no-recipients', data: (d) => void (d.toolgate.config.agents['receipts-bot'].email.allowed_recipients = []) });
    smallerBudget = buildBundle({ revision: 'budget-20000', data: (d) => void (d.toolgate.config.trade.daily_notional_budget = 20_000) });
    gw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
    traffic = await recordTraffic(gw);
    await gw.close();
    file = gw.config.audit.file;
    events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
  });
  afterAll(async () => {
    await gw?.close();
  });

  const decisions = () => events.filter((e) => e.type === 'decision' && e.input);

  it('replays every recorded decision unchanged through the policy that made them (a bundle directory)', async () => {
    const { code, report } = await simulateJson(['--candidate', POLICY_BUNDLE, '--file', file, '--max-changed', '0']);
    expect(code).toBe(0);
    expect(report.events).toBe(events.length);
    expect(report.skipped).toEqual({ notDecisions: events.filter((e) => e.type !== 'decision').length, noInput: 1, outsideWindow: 0 });
    expect(report.clear).toEqual({ replayed: decisions().length - 1, unchanged: decisions().length - 1, changed: 0, changes: [] });
    // The email whose body held a key: its audit input is masked, so it is replayed and counted apart.
    expect(report.masked).toMatchObject({ replayed: 1, unchanged: 1, changed: 0 });
    expect(report.exceeded).toBe(false);
  });

  it('shows a lower trading cap as approval_required -> deny on the order above it, with its decision id', async () => {
    const { code, report } = await simulateJson(['--candidate', tighter, '--file', file]);
    expect(code).toBe(0);
    expect(report.candidate.revision).toBe('cap-4000');
    expect(report.clear.changed).toBe(1);
    expect(report.clear.changes).toEqual([
      { kind: 'decision', tool: 'trade.place', from: { outcome: 'approval_required', codes: ['order_above_approval_threshold'] }, to: { outcome: 'deny', codes: ['order_too_large'] }, count: 1, examples: [traffic.midOrder] },
    ]);
    // The second small order was refused by the cooldown limit after the policy allowed it: the recorded policy
    // decision (allow) is what a candidate is compared with, so it is unchanged.
    const limited = events.find((e) => e.type === 'decision' && e.decision_id === traffic.smallOrders[1]);
    expect(limited).toMatchObject({ outcome: 'deny', result: { outcome: 'allow' } });
    expect(report.clear.unchanged).toBe(report.clear.replayed - 1);
  });

  it('prints the change, the counts and its speed', async () => {
    const { code, out } = await simulate(['--candidate', tighter, '--file', file]);
    expect(code).toBe(0);
    expect(out).toContain(`decisions replayed: ${decisions().length - 1}\n`);
    expect(out).toContain('changed:            1\n');
    expect(out).toContain(`1  trade.place: approval_required [order_above_approval_threshold] -> deny [order_too_large]  e.g. ${traffic.midOrder}\n`);
    expect(out).toContain('masked inputs:      1 replayed apart');
    expect(out).toMatch(/speed: +[\d,]+ events\/s/);
  });

  it('exits 1 past --max-changed and 0 within it', async () => {
    const over = await simulate(['--candidate', tighter, '--file', file, '--max-changed', '0']);
    expect(over.code).toBe(1);
    expect(over.out).toContain('FAILED: 1 changed decisions, more than --max-changed 0');
    const within = await simulate(['--candidate', tighter, '--file', file, '--max-changed', '1']);
    expect(within.code).toBe(0);
    expect(within.out).toContain('OK: 1 changed decisions, within --max-changed 1');
  });

  it('counts changes on masked inputs apart, outside --max-changed', async () => {
    const { code, report } = await simulateJson(['--candidate', noRecipients, '--file', file, '--max-changed', '1']);
    // The clean email to the accountant is now denied; the masked one (denied for its key) gains a reason.
    expect(report.clear.changes).toEqual([expect.objectContaining({ tool: 'email.send', from: { outcome: 'allow', codes: [] }, to: { outcome: 'deny', codes: ['recipient_not_allowed'] }, count: 1 })]);
    expect(report.masked.changed).toBe(1);
    expect(report.masked.changes).toEqual([expect.objectContaining({ tool: 'email.send', examples: [traffic.maskedEmail] })]);
    expect(report.masked.changes[0]!.to.codes).toContain('recipient_not_allowed');
    expect(code).toBe(0);
  });

  it('reports a changed limit with the same outcome as an obligation change, never as unchanged', async () => {
    const { report } = await simulateJson(['--candidate', smallerBudget, '--file', file]);
    const allowed = report.clear.changes.find((g) => g.from.outcome === 'allow' && g.tool === 'trade.place');
    expect(allowed).toMatchObject({ kind: 'obligations', from: { outcome: 'allow', codes: [] }, to: { outcome: 'allow', codes: [] }, obligations: ['limits'] });
    expect(allowed!.examples).toEqual(traffic.smallOrders);
    expect(report.clear.changes.every((g) => g.kind === 'obligations' && g.tool === 'trade.place')).toBe(true);
    const { out } = await simulate(['--candidate', smallerBudget, '--file', file]);
    expect(out).toContain(`trade.place: allow [], obligations differ: limits  e.g. ${traffic.smallOrders.join(', ')}`);
  });

  it('replays only the events in --since/--until', async () => {
    // One recorded event per minute, so a window picks a known subset.
    const start = Date.parse('2026-11-25T15:00:00Z');
    const spread = derived(file, (e, i) => ({ ...e, timestamp: new Date(start + i * 60_000).toISOString() }));
    const inWindow = events.filter((e, i) => e.type === 'decision' && i >= 2 && i < 7);
    const { report } = await simulateJson(['--candidate', POLICY_BUNDLE, '--file', spread, '--since', '2026-11-25T15:02:00Z', '--until', '2026-11-25T10:07:00-05:00']);
    expect(report.window).toEqual({ since: '2026-11-25T15:02:00.000Z', until: '2026-11-25T15:07:00.000Z' });
    expect(report.clear.replayed + report.masked.replayed + report.skipped.noInput).toBe(inWindow.length);
    expect(report.skipped.outsideWindow).toBe(events.filter((e, i) => e.type === 'decision' && (i < 2 || i >= 7)).length);
  });

  it('counts lines that are not JSON and sets a torn last line apart', async () => {
    const damaged = derived(file, (e) => e, 'not json\n{"decision_id":"torn","in');
    const { report } = await simulateJson(['--candidate', POLICY_BUNDLE, '--file', damaged]);
    expect(report.events).toBe(events.length + 1);
    expect(report.unreadable).toBe(1);
    expect(report.tornBytes).toBe('{"decision_id":"torn","in'.length);
  });

  it('is `toolgate policy simulate`: exit 1 past --max-changed, 2 for a usage error, 1 with a code for a bad bundle', async () => {
    const printed: string[] = [];
    const capture = (chunk: string | Uint8Array) => void printed.push(String(chunk));
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (capture(chunk), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (capture(chunk), true));
    try {
      expect(await main(['policy', 'simulate', '--candidate', tighter, '--file', file, '--max-changed', '0'])).toBe(1);
      expect(printed.join('')).toContain('FAILED: 1 changed decisions');
      expect(await main(['policy', 'simulate', '--file', file])).toBe(2);
      expect(printed.join('')).toContain('toolgate: Give --candidate');
      expect(await main(['policy', 'simulate', '--candidate', file, '--file', file])).toBe(1);
      expect(printed.join('')).toMatch(/toolgate: policy_bundle_(unreadable|invalid): /);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('says what to fix for bad arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['--file', 'x'], /Give --candidate/],
      [['--candidate', POLICY_BUNDLE, '--file', 'x', '--brokers', 'b:1'], /either --file or --brokers/],
      [['--candidate', POLICY_BUNDLE, '--file', 'x', '--since', 'yesterday'], /not an RFC 3339 time/],
      [['--candidate', POLICY_BUNDLE, '--file', 'x', '--since', '2026-11-25T16:00:00Z', '--until', '2026-11-25T15:00:00Z'], /is not before --until/],
      [['--candidate', POLICY_BUNDLE, '--file', 'x', '--max-changed', 'ten'], /whole number/],
    ];
    for (const [args, message] of cases) await expect(simulate(args)).rejects.toThrow(expect.objectContaining({ name: UsageError.name, message: expect.stringMatching(message) }));
    await expect(simulate(['--candidate', POLICY_BUNDLE, '--file', join(tmpdir(), 'no-such-audit.jsonl')])).rejects.toMatchObject({ reason: 'simulation_source_unreadable' });
    await expect(simulate(['--candidate', join(tmpdir(), 'no-such-bundle'), '--file', file])).rejects.toMatchObject({ reason: 'policy_bundle_unreadable' });
  });
});
