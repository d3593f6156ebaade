import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import { UnavailableError } from '../../src/errors.js';
import { Simulation } from '../../src/policy/simulate.js';
import type { Decision } from '../../src/policy/types.js';

const OBLIGATIONS: Decision['obligations'] = { limits: [], redact: { request: [], response: [] }, audit: { level: 'standard' }, approval: null };
const decision = (outcome: Decision['outcome'], ...codes: string[]): Decision => ({ outcome, reasons: codes.map((code) => ({ code, message: code })), obligations: OBLIGATIONS });

/** A recorded decision event with just what a replay reads. */
function recorded(id: string, result: Decision, args: Record<string, unknown> = {}): AuditEvent {
  return { type: 'decision', decision_id: id, timestamp: '2026-11-25T15:00:00Z', input: { tool: { name: 'email.send' }, args }, result, outcome: result.outcome, reasons: result.reasons, masked: [], erased: [], tool: { name: 'email.send', protocol: 'http' }, policy: { revision: 'r1', sha256: '' } } as unknown as AuditEvent;
}

describe('Simulation (the replay accumulator)', () => {
  it('keeps at most maxGroups distinct changes and counts the rest in one overflow group', () => {
    // A candidate that quotes an argument in its reason code makes one group per decision.
    const simulation = new Simulation((input) => decision('deny', `code_${String((input as { args: { n: number } }).args.n)}`), { maxGroups: 10, examples: 2 });
    for (let n = 0; n < 1_000; n++) simulation.add(recorded(`d${n}`, decision('allow'), { n }));
    simulation.finish();
    expect(simulation.clear.changed).toBe(1_000);
    expect(simulation.clear.changes).toHaveLength(11);
    expect(simulation.clear.changes[0]).toMatchObject({ kind: 'overflow', count: 990, examples: ['d10', 'd11'] });
    expect(simulation.clear.changes.reduce((sum, g) => sum + g.count, 0)).toBe(1_000);
  });

  it('records a candidate that fails on an input as an error with its code (the gateway fails closed)', () => {
    const simulation = new Simulation(() => {
      throw new UnavailableError('policy_undefined', 'no decision');
    });
    simulation.add(recorded('d1', decision('allow')));
    simulation.finish();
    expect(simulation.clear.changes).toEqual([expect.objectContaining({ from: { outcome: 'allow', codes: [] }, to: { outcome: 'error', codes: ['policy_undefined'] }, examples: ['d1'] })]);
  });

  it('compares reason codes as a set: order and repeats do not make a change', () => {
    const simulation = new Simulation(() => decision('deny', 'b', 'a', 'a'));
    simulation.add(recorded('d1', decision('deny', 'a', 'b')));
    simulation.add(null);
    simulation.finish();
    expect(simulation.clear).toMatchObject({ replayed: 1, unchanged: 1, changed: 0 });
    expect(simulation.unreadable).toBe(1);
  });
});
