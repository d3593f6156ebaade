import { Session } from 'node:inspector/promises';
import type { PolicyBundle } from './bundle.js';
import { PolicyEngine } from './engine.js';

/**
 * Where a policy's evaluation time goes, rule by rule: V8's sampling profiler runs while the engine evaluates one
 * input over and over in this thread, and each sample is charged to the innermost compiled rule on its stack
 * (OPA names each rule's WASM function `g<N>.data.<package>.<rule>`), so a rule's share excludes the rules it
 * calls and includes the runtime's builtins, hashing and allocation it asks for. A sample with no rule on its
 * stack is OPA's runtime on its own (the input's JSON parsed into WASM memory, the result written out) or the
 * engine's JavaScript around the call. The CPU time per evaluation is measured in a separate loop without the
 * profiler, so the microseconds shown are shares of an unprofiled evaluation.
 */
export interface PolicyProfile {
  /** Evaluations while the profiler ran. */
  readonly evaluations: number;
  readonly samples: number;
  /** CPU time of one evaluation, measured without the profiler (median of batches). */
  readonly cpuUsPerEvaluation: number;
  /** Every part that holds a sample, most samples first. */
  readonly parts: readonly ProfilePart[];
  /** The shares of each kind of part (rules, OPA's runtime outside any rule, outside WASM, WASM with its callers lost), 0-1. */
  readonly totals: Readonly<Record<ProfileKind, number>>;
}

/**
 * `unattributed`: a sample inside WASM whose stack the profiler cut short (no rule and no opa_eval above the
 * function it was in). V8 does this for some samples of some runs; they are shown apart rather than guessed at.
 */
export type ProfileKind = 'rule' | 'runtime' | 'outside' | 'unattributed';

export interface ProfilePart {
  /** `data.toolgate.tools.email.key` for a rule; a description in parentheses otherwise. */
  readonly name: string;
  readonly kind: ProfileKind;
  /** Share of the samples, 0-1. */
  readonly share: number;
  /** share × cpuUsPerEvaluation. */
  readonly usPerEvaluation: number;
}

/** The parts of a V8 CPU profile this module reads (Profiler.stop's `profile`, or a .cpuprofile file). */
export interface CpuProfileLike {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url?: string }; readonly children?: readonly number[] }[];
  readonly samples?: readonly number[];
}

export const INPUT_PARSE = '(OPA runtime: the input JSON parsed into WASM memory)';
export const RESULT_WRITE = '(OPA runtime: the result written as JSON)';
export const RUNTIME_OTHER = '(OPA runtime: other, outside any rule)';
export const OUTSIDE = '(outside WASM: the engine\'s JavaScript, the input encoded, the result parsed)';
export const GC = '(V8: garbage collection)';
export const CUT_SHORT = '(inside WASM, but the profiler lost the frames above this sample: run again or longer)';

const RULE = /^g\d+\.(data\..+)$/;
const PARSE = /json_parse|json_lex|value_parse/;
const WRITE = /json_dump|json_writer|value_dump/;
const IGNORED = new Set(['(idle)', '(root)']);

/** A V8 CPU profile's nodes by id, and each node's parent: what walking a sample's stack from its leaf needs. */
export function indexNodes<N extends { readonly id: number; readonly children?: readonly number[] }>(nodes: readonly N[]): { byId: Map<number, N>; parent: Map<number, number> } {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  return { byId, parent };
}

/**
 * Charges every sample of `profile` to one part: the innermost rule on its stack, else what OPA's runtime was
 * doing (judged by the function opa_eval called), else outside WASM. Returns sample counts by part.
 */
export function attributeSamples(profile: CpuProfileLike): Map<string, { kind: ProfileKind; samples: number }> {
  const { byId, parent } = indexNodes(profile.nodes);
  const memo = new Map<number, { name: string; kind: ProfileKind } | null>();
  const classify = (leaf: number): { name: string; kind: ProfileKind } | null => {
    const known = memo.get(leaf);
    if (known !== undefined) return known;
    const leafName = byId.get(leaf)?.callFrame.functionName ?? '';
    let found: { name: string; kind: ProfileKind } | null;
    if (IGNORED.has(leafName)) found = null;
    else if (leafName === '(garbage collector)') found = { name: GC, kind: 'outside' };
    else {
      found = null;
      let below = '';
      let inWasm = false;
      for (let at: number | undefined = leaf; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame;
        const name = frame?.functionName ?? '';
        inWasm ||= frame?.url?.startsWith('wasm://') === true;
        const rule = RULE.exec(name);
        if (rule) {
          found = { name: rule[1]!, kind: 'rule' };
          break;
        }
        if (name === 'opa_eval') {
          found = { name: PARSE.test(below) ? INPUT_PARSE : WRITE.test(below) ? RESULT_WRITE : RUNTIME_OTHER, kind: 'runtime' };
          break;
        }
        below = name;
      }
      found ??= inWasm ? { name: CUT_SHORT, kind: 'unattributed' } : { name: OUTSIDE, kind: 'outside' };
    }
    memo.set(leaf, found);
    return found;
  };
  const parts = new Map<string, { kind: ProfileKind; samples: number }>();
  for (const leaf of profile.samples ?? []) {
    const part = classify(leaf);
    if (!part) continue;
    const entry = parts.get(part.name);
    if (entry) entry.samples++;
    else parts.set(part.name, { kind: part.kind, samples: 1 });
  }
  return parts;
}

/** The profile's parts with shares and microseconds, most samples first. */
export function summarizeProfile(counts: ReadonlyMap<string, { kind: ProfileKind; samples: number }>, cpuUsPerEvaluation: number, evaluations: number): PolicyProfile {
  let samples = 0;
  for (const c of counts.values()) samples += c.samples;
  const totals = { rule: 0, runtime: 0, outside: 0, unattributed: 0 };
  const parts: ProfilePart[] = [];
  for (const [name, c] of counts) {
    const share = samples ? c.samples / samples : 0;
    totals[c.kind] += share;
    parts.push({ name, kind: c.kind, share, usPerEvaluation: share * cpuUsPerEvaluation });
  }
  parts.sort((a, b) => b.share - a.share || a.name.localeCompare(b.name));
  return { evaluations, samples, cpuUsPerEvaluation, parts, totals };
}

/** Profiles taken at most, while the samples whose callers V8 lost are over LOST_TOLERATED of one. */
const PROFILE_ATTEMPTS = 3;
const LOST_TOLERATED = 0.02;

/** Milliseconds of evaluations before anything is measured, so V8 has tiered the WASM and the engine's JavaScript up. */
const WARMUP_MS = 1000;

/**
 * Some runs lose the frames above part of the WASM samples (see ProfileKind): takes a profile, and again while the
 * best so far lost more than LOST_TOLERATED of its samples, PROFILE_ATTEMPTS times at most; returns the one that
 * lost the fewest.
 */
export async function leastLost(take: () => Promise<PolicyProfile>): Promise<PolicyProfile> {
  let best = await take();
  for (let attempt = 1; attempt < PROFILE_ATTEMPTS && best.totals.unattributed > LOST_TOLERATED; attempt++) {
    const next = await take();
    if (next.totals.unattributed < best.totals.unattributed) best = next;
  }
  return best;
}

export interface ProfileOptions {
  /** Seconds of evaluations under the profiler (default 3). */
  readonly seconds?: number;
  /** The profiler's sampling interval, µs (default 100). */
  readonly intervalUs?: number;
}

/**
 * Loads `bundle` into an engine that evaluates in this thread and profiles `evaluateRaw(input)` on it. The profiler
 * runs from before the module is compiled: started later, V8 has not recorded the WASM code's frames and most
 * samples lose the functions between the innermost one and the JavaScript that called into WASM.
 * Blocks the event loop for about twice `seconds`: a command-line and bench tool, never for a serving gateway.
 * Returns the profile and the policy's revision.
 */
export async function profilePolicy(bundle: PolicyBundle, input: unknown, options: ProfileOptions = {}): Promise<PolicyProfile & { readonly revision: string }> {
  const seconds = options.seconds ?? 3;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: options.intervalUs ?? 100 });
    await session.post('Profiler.start');
    const engine = await PolicyEngine.load(bundle, 'toolgate', { workers: 0 });
    try {
      engine.evaluateRaw(input); // an input the policy cannot evaluate fails here, before any measuring
      const run = (ms: number): number => {
        let n = 0;
        const end = performance.now() + ms;
        while (performance.now() < end) {
          for (let i = 0; i < 100; i++) engine.evaluateRaw(input);
          n += 100;
        }
        return n;
      };
      run(WARMUP_MS); // warm: V8 tiers the WASM and the engine's JavaScript up before anything is measured
      await session.post('Profiler.stop');
      const batches: number[] = [];
      const unprofiledEnd = performance.now() + seconds * 1000;
      while (performance.now() < unprofiledEnd) {
        const before = process.cpuUsage();
        const n = run(100);
        const spent = process.cpuUsage(before);
        batches.push((spent.user + spent.system) / n);
      }
      batches.sort((a, b) => a - b);
      const cpuUs = batches[batches.length >> 1]!;
      const best = await leastLost(async () => {
        await session.post('Profiler.start');
        const evaluations = run(seconds * 1000);
        const { profile } = await session.post('Profiler.stop');
        return summarizeProfile(attributeSamples(profile as CpuProfileLike), cpuUs, evaluations);
      });
      return { revision: engine.info.revision, ...best };
    } finally {
      await engine.close();
    }
  } finally {
    session.disconnect();
  }
}

/** The profile as text: one line per part down to `top` parts, then the totals. */
export function formatProfile(p: PolicyProfile, top = 25): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`.padStart(7);
  const us = (x: number) => x.toFixed(1).padStart(7);
  const lines = [
    `${p.evaluations.toLocaleString('en-US')} evaluations under the profiler, ${p.samples.toLocaleString('en-US')} samples; one evaluation costs ${p.cpuUsPerEvaluation.toFixed(1)} µs of CPU (measured without the profiler).`,
    '',
    '  share    µs  where (a rule\'s own time: the rules it calls count for them; builtins, hashing and allocation for it)',
  ];
  for (const part of p.parts.slice(0, top)) lines.push(`${pct(part.share)} ${us(part.usPerEvaluation)}  ${part.name}`);
  if (p.parts.length > top) {
    const rest = p.parts.slice(top);
    lines.push(`${pct(rest.reduce((a, x) => a + x.share, 0))} ${us(rest.reduce((a, x) => a + x.usPerEvaluation, 0))}  (${rest.length} more parts)`);
  }
  const lost = p.totals.unattributed > 0 ? `; inside WASM with its callers lost ${pct(p.totals.unattributed).trim()}` : '';
  lines.push('', `Rules ${pct(p.totals.rule).trim()}, OPA's runtime outside any rule ${pct(p.totals.runtime).trim()}, outside WASM ${pct(p.totals.outside).trim()}${lost}.`, '');
  return lines.join('\n');
}
