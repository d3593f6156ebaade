import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, PolicyEngine, type PolicyInput } from '../../src/policy/index.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';

const fixture = (name: string) => JSON.parse(readFileSync(`test/fixtures/policy/inputs/${name}.json`, 'utf8')) as PolicyInput & { args: Record<string, unknown> };

/**
 * decide() hands the evaluator thread the input's JSON through shared memory that starts at 64 KiB and grows, and
 * reads the result's JSON back the same way: whatever the sizes and characters, the thread decides exactly what
 * evaluation in this thread decides.
 */
describe('input and result through the evaluator channel', () => {
  let inline: PolicyEngine;
  let pooled: PolicyEngine;
  beforeAll(async () => {
    const bundle = await loadBundle(POLICY_BUNDLE);
    inline = await PolicyEngine.load(bundle, 'channel', { workers: 0 });
    pooled = await PolicyEngine.load(bundle, 'channel', { workers: 1, timeoutMs: 10_000 });
  });
  afterAll(() => pooled.close());

  const allow = fixture('email-send-allow');
  it.each<[string, PolicyInput]>([
    ['a small input', allow],
    ['a 1 MB body of multi-byte characters (UTF-8 longer than the string)', { ...allow, args: { ...allow.args, body: 'ü€😀'.repeat(250_000) } }],
    ['a long result: 5,000 malformed recipients named in the message', { ...allow, args: { ...allow.args, to: Array.from({ length: 5_000 }, (_, i) => `\u00a0${'x'.repeat(40)}${i}@ledger-partners.example`) } }],
    ['a small input again, after the channel grew', fixture('trade-place-allow')],
  ])('%s', async (_name, input) => {
    expect(await pooled.decide(input)).toEqual(inline.evaluate(input));
  });

  it('refuses an input larger than the policy memory with policy_evaluation_failed, and goes on deciding', async () => {
    const huge = { ...allow, args: { ...allow.args, body: 'x'.repeat(300 * 1024 * 1024) } };
    await expect(pooled.decide(huge)).rejects.toMatchObject({ kind: 'unavailable', reason: 'policy_evaluation_failed' });
    expect((await pooled.decide(allow)).outcome).toBe('allow');
  });
});
