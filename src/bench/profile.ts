import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexNodes } from '../policy/profile.js';
import type { ProfileRow, ProfileSummary } from './types.js';

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes, one file per thread) this reader uses. */
interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string }; readonly children?: readonly number[] }[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`: thread 0 is the main thread. */
const FILE = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/;
const OWN = /\/dist\/(.+)\.js$/;
const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

/** Every sample of an evaluator thread: the thread does nothing else (worker.ts, abi.ts, opa-wasm). */
const EVALUATION = 'policy evaluation (evaluator threads)';

/** What each of our folders is in the request path (the stages' modules are named after what they do). */
const PARTS: readonly (readonly [RegExp, string])[] = [
  [/^identity\//, 'signature verification (identity/)'],
  [/^extract\/|^gateway\/stages\/extract$/, 'body read and JSON parse (extract/)'],
  [/^classify\//, 'detectors (classify/)'],
  [/^input\/|^gateway\/stages\/input$/, 'input document (input/)'],
  [/^policy\//, 'policy round trip, gateway side (policy/)'],
  [/^audit\//, 'audit record (audit/)'],
  [/^limits\/|^approvals\/|^uploads\/|^gateway\/stages\/reserve$/, 'limits, approvals, uploads'],
  [/^telemetry\//, 'telemetry'],
  [/^server\//, 'the tool itself (server/)'],
  [/^gateway\//, 'gateway glue (gateway/)'],
];

/** Our module (`classify/detectors`), a package (`express`), `node:…` for Node's own, or the V8 entry's name. */
function ownModule(url: string): string | undefined {
  const own = OWN.exec(url);
  return own && !url.includes('/node_modules/') ? own[1] : undefined;
}

function outside(url: string, name: string): string {
  const pkg = PACKAGE.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:' + url.replace(/^node:(internal\/)?/, '').split('/')[0]!;
  if (url.startsWith('wasm://')) return 'wasm';
  return name || '(native)';
}

/** Calls with no frame of ours on the stack: the HTTP server and Express around the gate, GC, V8 itself. */
function outsidePart(leaf: string): string {
  if (leaf === '(garbage collector)') return 'garbage collection';
  if (leaf === '(program)') return 'V8 and native (program)';
  return 'HTTP server and Express (no frame of ours)';
}

/**
 * Sums each thread's samples taken between `fromUs` and `toUs` (the profile's clock is the monotonic one
 * `process.hrtime` reads, so the bench marks its measured window with it) and divides by `calls`. Idle samples are
 * left out, and so is an evaluator thread blocked in Atomics.wait between requests (a sample whose leaf is the
 * thread's `main` loop): the rows are CPU the gateway spent.
 */
export function summarizeProfiles(dir: string, calls: number, fromUs: number, toUs: number): ProfileSummary {
  const threads = new Map<string, number>();
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let busy = 0;
  for (const file of readdirSync(dir).sort()) {
    const match = FILE.exec(file);
    if (!match) continue;
    const thread = match[1] === '0' ? 'main thread' : 'evaluator threads';
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const { byId, parent } = indexNodes(profile.nodes);
    // Per node, once: the part and function its samples count for (null: not CPU of ours).
    const labels = new Map<number, { part: string; fn: string } | null>();
    const label = (id: number): { part: string; fn: string } | null => {
      const cached = labels.get(id);
      if (cached !== undefined) return cached;
      const leaf = byId.get(id)!.callFrame;
      let result: { part: string; fn: string } | null = null;
      const waiting = leaf.functionName === 'wait' || (leaf.functionName === 'main' && ownModule(leaf.url) === 'policy/worker');
      if (leaf.functionName !== '(idle)' && !waiting) {
        let at: number | undefined = id;
        while (at !== undefined && ownModule(byId.get(at)!.callFrame.url) === undefined) at = parent.get(at);
        const frame = at === undefined ? undefined : byId.get(at)!.callFrame;
        const mod = frame ? ownModule(frame.url)! : undefined;
        const leafName = outside(leaf.url, leaf.functionName);
        result = mod
          ? { part: PARTS.find(([re]) => re.test(mod))?.[1] ?? `other (${mod})`, fn: `${mod} ${frame!.functionName || '(anonymous)'}` }
          : { part: outsidePart(leaf.functionName), fn: `(not ours) ${leafName}` };
        if (thread === 'evaluator threads') result = { ...result, part: EVALUATION };
      }
      labels.set(id, result);
      return result;
    };
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i]!;
      // A sample stands for the time until the next one.
      const us = profile.timeDeltas[i + 1] ?? 0;
      if (t < fromUs || t > toUs) continue;
      const l = label(profile.samples[i]!);
      if (!l) continue;
      busy += us;
      add(threads, thread, us);
      add(parts, l.part, us);
      add(functions, l.fn, us);
    }
  }
  const rows = (m: Map<string, number>, top = Infinity): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, usPerCall: us / calls, share: busy > 0 ? us / busy : 0 }));
  return { calls, busyUsPerCall: busy / calls, threads: rows(threads), parts: rows(parts), functions: rows(functions, 25) };
}

/** The summary as markdown tables. */
export function profileMarkdown(p: ProfileSummary): string[] {
  const table = (title: string, list: readonly ProfileRow[]) => [`| ${title} | µs per call | share |`, '|---|---:|---:|', ...list.map((r) => `| ${r.name} | ${r.usPerCall.toFixed(1)} | ${(r.share * 100).toFixed(1)} % |`), ''];
  return [
    '### Profile: where an allowed call\'s CPU goes',
    '',
    `${p.calls.toLocaleString('en-US')} allowed calls profiled (\`node --cpu-prof\`, every thread of the pipeline server); busy CPU **${p.busyUsPerCall.toFixed(0)} µs per call**.`,
    '',
    ...table('thread', p.threads),
    ...table('part of the pipeline', p.parts),
    ...table('function (innermost of ours on the stack; top 25)', p.functions),
  ];
}
