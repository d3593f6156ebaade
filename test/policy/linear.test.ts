import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, PolicyEngine, type PolicyInput } from '../../src/policy/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';
import { buildBundle } from './bundles.js';

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/policy/inputs/${name}.json`, 'utf8')) as PolicyInput & { args: Record<string, unknown> };

/** The inputs an agent can grow without bound, n elements each; every one of them is denied or redacted. */
const SHAPES: Record<string, (n: number) => PolicyInput> = {
  'distinct recipients': (n) => {
    const input = fixture('email-send-allow');
    return { ...input, args: { ...input.args, to: Array.from({ length: n }, (_, i) => `user${i}@attacker.example`) } };
  },
  'malformed recipients': (n) => {
    const input = fixture('email-send-allow');
    return { ...input, args: { ...input.args, to: Array.from({ length: n }, (_, i) => `\u00a0user${i}@ledger-partners.example`) } };
  },
  'secret findings': (n) => {
    const input = fixture('email-send-allow');
    return { ...input, findings: { pii: [], secrets: Array.from({ length: n }, (_, i) => ({ type: 'aws_access_key', pointer: `/args/x/${i}` })) } };
  },
  'PII findings in a room write': (n) => {
    const input = fixture('memory-write-room-pii-redacted');
    return { ...input, findings: { secrets: [], pii: Array.from({ length: n }, (_, i) => ({ type: 'email', pointer: `/args/x/${i}` })) } };
  },
};

/** Best of three, so a busy machine inflates a ratio less. */
function timeMs(engine: PolicyEngine, input: PolicyInput): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    engine.evaluateRaw(input);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * The demo policy is linear in everything an agent controls. Before, it sorted every recipient into its message
 * (sort is quadratic in the WASM runtime) and looked values up with `x in s` (a scan): 24,000 recipients took
 * 3.8-7 s and 80,000 about two minutes, with the event loop frozen throughout. 8x the elements must cost well under
 * 8² = 64x the time; a linear policy measures about 8x.
 */
describe('policy cost grows linearly with the input', () => {
  let engine: PolicyEngine;
  let shipped: PolicyEngine;
  beforeAll(async () => {
    // The recipient bound (email.max_recipients, 100) refuses large lists before any address is checked: lifted
    // here, so the address rules themselves are measured at scale.
    const unbounded = buildBundle({ revision: 'linear', data: (d) => void (d.toolgate.config.email.max_recipients = 1_000_000) });
    engine = await PolicyEngine.load(await loadBundle(unbounded), 'toolgate', { workers: 0 });
    shipped = await PolicyEngine.load(await loadBundle(POLICY_BUNDLE), 'toolgate', { workers: 0 });
  });

  it.each(Object.keys(SHAPES))('%s', (shape) => {
    const make = SHAPES[shape]!;
    timeMs(engine, make(500)); // warm-up: WASM memory grows once
    const small = timeMs(engine, make(2_000));
    const large = timeMs(engine, make(16_000));
    expect(large / Math.max(small, 0.5), `2,000: ${small.toFixed(1)} ms, 16,000: ${large.toFixed(1)} ms`).toBeLessThan(24);
  });

  it('keeps 24,000 recipients well under a second and names only ten of them', () => {
    const input = SHAPES['distinct recipients']!(24_000);
    const t = performance.now();
    const decision = engine.evaluateRaw(input) as { outcome: string; reasons: { code: string; message: string }[] };
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(decision.outcome).toBe('deny');
    const reason = decision.reasons.find((r) => r.code === 'recipient_not_allowed')!;
    expect(reason.message).toContain('(and 23990 more)');
    expect(reason.message.length).toBeLessThan(600);
  });

  it('refuses 24,000 recipients under the shipped bound before checking any of them', () => {
    const input = SHAPES['distinct recipients']!(24_000);
    const t = performance.now();
    const decision = shipped.evaluateRaw(input) as { outcome: string; reasons: { code: string; message: string }[] };
    expect(performance.now() - t).toBeLessThan(200);
    expect(decision).toMatchObject({ outcome: 'deny', reasons: [{ code: 'args_invalid', message: expect.stringContaining('at most 100 recipients') }] });
  });
});
