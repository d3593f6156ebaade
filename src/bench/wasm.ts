import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, PolicyEngine, type PolicyBundle, type PolicyInput } from '../policy/index.js';
import { profilePolicy } from '../policy/profile.js';
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
  /** The opa binary: when given, the OPA WASM runtime's own cost is measured too (runtimeFloorP50Us). */
  readonly opa?: string | undefined;
  /** Seconds of the demo decision under V8's sampling profiler (src/policy/profile.ts); 0 or unset: none. */
  readonly profileSeconds?: number;
}

/** Parts of the profile kept in the results: the rest is summed in the totals. */
const PROFILE_PARTS = 12;

/**
 * `PolicyEngine.evaluate` in this process, one call at a time, timed with hrtime (tens of ns of overhead against
 * a budget of 30 µs). Includes what the gateway pays per decision: input serialization into WASM memory,
 * evaluation, result parsing and the decision contract check.
 */
export async function benchWasm(spec: WasmBenchSpec): Promise<WasmResult> {
  const bundle = await loadBundle(spec.bundleDir);
  const engine = await PolicyEngine.load(bundle, 'toolgate', { workers: 0 });
  const input = spec.input ?? (JSON.parse(readFileSync(WASM_INPUT_FILE, 'utf8')) as PolicyInput);
  const first = engine.evaluate(input);
  if (first.outcome !== 'allow') throw new Error(`the WASM bench input is decided "${first.outcome}" (${first.reasons.map((r) => r.code).join(', ')}), not allow: it would measure the wrong path`);
  for (let i = 0; i < spec.warmup; i++) engine.evaluate(input);
  const floor = spec.opa ? await PolicyEngine.load(await runtimeFloorBundle(spec.opa, engine.evaluateRaw(input)), 'runtime-floor', { workers: 0 }) : undefined;
  if (floor) for (let i = 0; i < spec.warmup; i++) floor.evaluate(input);
  const rounds: WasmRound[] = [];
  const benchP50: number[] = [];
  const floorP50: number[] = [];
  const samples = new Float64Array(spec.iterations);
  /** One evaluation at a time, timed with hrtime; the sorted samples. */
  const time = (run: PolicyEngine, of: PolicyInput): Float64Array => {
    for (let i = 0; i < spec.iterations; i++) {
      const t = process.hrtime.bigint();
      run.evaluate(of);
      samples[i] = Number(process.hrtime.bigint() - t) / 1000;
    }
    return sorted(samples);
  };
  for (let r = 0; r < spec.rounds; r++) {
    const s = time(engine, input);
    rounds.push({ p50Us: percentile(s, 50), p99Us: percentile(s, 99), meanUs: s.reduce((a, b) => a + b, 0) / s.length });
    if (spec.benchInput) benchP50.push(percentile(time(engine, spec.benchInput), 50));
    if (floor) floorP50.push(percentile(time(floor, input), 50));
  }
  await engine.close();
  await floor?.close();
  let profile: WasmResult['profile'];
  if (spec.profileSeconds) {
    const p = await profilePolicy(bundle, input, { seconds: spec.profileSeconds });
    profile = { cpuUsPerEvaluation: p.cpuUsPerEvaluation, parts: p.parts.slice(0, PROFILE_PARTS), totals: p.totals };
  }
  return {
    target: 'wasm',
    iterations: spec.iterations,
    rounds,
    p50Us: median(rounds.map((r) => r.p50Us)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    benchInputP50Us: median(benchP50),
    ...(floor ? { runtimeFloorP50Us: median(floorP50) } : {}),
    ...(profile ? { profile } : {}),
  };
}

/**
 * A policy with one rule that returns `decision` (the demo policy's own answer, as a literal) once it has looked at
 * the input: evaluated through the same engine on the same input it costs what OPA's WASM runtime and the engine
 * cost on their own (the input's JSON parsed into WASM memory, the result serialised and parsed back, the contract
 * check), so the demo decision's p50 minus this one is what the demo policy's rules cost.
 */
async function runtimeFloorBundle(opa: string, decision: unknown): Promise<PolicyBundle> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-wasm-floor-'));
  try {
    writeFileSync(join(dir, 'floor.rego'), `package toolgate\n\ndecision := ${JSON.stringify(decision)} if input.agent.verified == true\n`);
    execFileSync(opa, ['build', '-t', 'wasm', '-e', 'toolgate/decision', '-o', join(dir, 'bundle.tar.gz'), join(dir, 'floor.rego')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    return await loadBundle(join(dir, 'bundle.tar.gz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
