import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBundle, PolicyEngine, type PolicyInput } from '../policy/index.js';
import { median, percentile, sorted } from './stats.js';
import type { WasmResult, WasmRound } from './types.js';

/** The policy fixture for an allowed email.send (with an attachment the upload store vouched for). */
export const WASM_INPUT_FILE = fileURLToPath(new URL('../../test/fixtures/policy/inputs/email-send-allow.json', import.meta.url));

export interface WasmBenchSpec {
  readonly bundleDir: string;
  readonly input?: PolicyInput;
  /** The HTTP bench call's input, timed too (median p50 over the rounds) for the floor. */
  readonly benchInput?: PolicyInput;
  readonly iterations: number;
  readonly warmup: number;
  readonly rounds: number;
}

/**
 * `PolicyEngine.evaluate` in this process, one call at a time, timed with hrtime (tens of ns of overhead against
 * a budget of 30 µs). Includes what the gateway pays per decision: input serialization into WASM memory,
 * evaluation, result parsing and the decision contract check.
 */
export async function benchWasm(spec: WasmBenchSpec): Promise<WasmResult> {
  const engine = await PolicyEngine.load(await loadBundle(spec.bundleDir), 'toolgate', { workers: 0 });
  const input = spec.input ?? (JSON.parse(readFileSync(WASM_INPUT_FILE, 'utf8')) as PolicyInput);
  const first = engine.evaluate(input);
  if (first.outcome !== 'allow') throw new Error(`the WASM bench input is decided "${first.outcome}" (${first.reasons.map((r) => r.code).join(', ')}), not allow: it would measure the wrong path`);
  for (let i = 0; i < spec.warmup; i++) engine.evaluate(input);
  const rounds: WasmRound[] = [];
  const benchP50: number[] = [];
  const samples = new Float64Array(spec.iterations);
  for (let r = 0; r < spec.rounds; r++) {
    for (let i = 0; i < spec.iterations; i++) {
      const t = process.hrtime.bigint();
      engine.evaluate(input);
      samples[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    const s = sorted(samples);
    rounds.push({ p50Us: percentile(s, 50), p99Us: percentile(s, 99), meanUs: s.reduce((a, b) => a + b, 0) / s.length });
    if (spec.benchInput) {
      for (let i = 0; i < spec.iterations; i++) {
        const t = process.hrtime.bigint();
        engine.evaluate(spec.benchInput);
        samples[i] = Number(process.hrtime.bigint() - t) / 1000;
      }
      benchP50.push(percentile(sorted(samples), 50));
    }
  }
  await engine.close();
  return {
    target: 'wasm',
    iterations: spec.iterations,
    rounds,
    p50Us: median(rounds.map((r) => r.p50Us)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    benchInputP50Us: median(benchP50),
  };
}
