import { readFileSync } from 'node:fs';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../src/policy/index.js';
import { abiProblem, evaluateBytes, evaluateValue, type AbiPolicy } from '../../src/policy/abi.js';
import { POLICY_BUNDLE } from '../helpers/gateway.js';

const allow = JSON.parse(readFileSync('test/fixtures/policy/inputs/email-send-allow.json', 'utf8')) as { args: Record<string, unknown> };

/** opa-wasm's own evaluate() and a policy the ABI helpers call into, loaded from the same bundle separately. */
async function load(): Promise<{ policy: AbiPolicy; library: { evaluate(input: unknown, entrypoint: string): unknown } }> {
  const bundle = await loadBundle(POLICY_BUNDLE);
  const data = bundle.data.buffer.slice(bundle.data.byteOffset, bundle.data.byteOffset + bundle.data.byteLength) as ArrayBuffer;
  const [mine, theirs] = await Promise.all([loadPolicy(bundle.wasm, { initial: 32, maximum: 4096 }), loadPolicy(bundle.wasm, { initial: 32, maximum: 4096 })]);
  mine.setData(data);
  theirs.setData(data);
  return { policy: mine as unknown as AbiPolicy, library: theirs as unknown as { evaluate(input: unknown, entrypoint: string): unknown } };
}

/**
 * The ABI 1.2 entry called directly (abi.ts) must give what opa-wasm's own evaluate() gives, whatever the input's
 * size and characters: the input is encoded straight into WASM memory (growing it when the UTF-8 does not fit in
 * the room there is), and the result read where it lies.
 */
describe('evaluating through the ABI 1.2 entry', () => {
  let policy: AbiPolicy;
  let library: { evaluate(input: unknown, entrypoint: string): unknown };
  let entrypoint: number;
  beforeAll(async () => {
    ({ policy, library } = await load());
    entrypoint = policy.entrypoints['toolgate/decision']!;
  });

  it('accepts the bundle the project builds', () => {
    expect(abiProblem(policy)).toBeUndefined();
    expect(abiProblem({ ...policy, minorVersion: 1 })).toMatch(/ABI 1\.1.*1\.2 or later/);
  });

  it.each<[string, unknown]>([
    ['a small input', allow],
    ['multi-byte characters past the memory there is (the encoder runs out of room, the memory grows)', { ...allow, args: { ...allow.args, body: 'ü€😀'.repeat(400_000) } }],
    ['a long result: 3,000 malformed recipients', { ...allow, args: { ...allow.args, to: Array.from({ length: 3_000 }, (_, i) => `\u00a0x${i}@ledger-partners.example`) } }],
    ['a small input after the memory grew', allow],
    ['a JSON value that is not an object', [1, 'two', null]],
  ])('%s', (_name, input) => {
    const before = policy.mem.buffer.byteLength;
    const mine = evaluateValue(policy, entrypoint, input);
    expect(mine).toEqual(library.evaluate(input, 'toolgate/decision'));
    expect(policy.mem.buffer.byteLength).toBeGreaterThanOrEqual(before);
  });

  it('fails on a lone surrogate as opa-wasm does (the gateway refuses such a body before: invalid_unicode)', () => {
    const input = { ...allow, args: { ...allow.args, subject: 'tax \ud800 invoice' } };
    expect(() => library.evaluate(input, 'toolgate/decision')).toThrow('illegal string escape character');
    expect(() => evaluateValue(policy, entrypoint, input)).toThrow('illegal string escape character');
    expect(evaluateValue(policy, entrypoint, allow)).toEqual(library.evaluate(allow, 'toolgate/decision'));
  });

  it('evaluates UTF-8 bytes as it evaluates the value they encode', () => {
    const input = { ...allow, args: { ...allow.args, subject: 'Tax: the ünïcödé receipts 😀' } };
    const bytes = evaluateBytes(policy, entrypoint, new TextEncoder().encode(JSON.stringify(input)));
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(evaluateValue(policy, entrypoint, input));
  });
});
