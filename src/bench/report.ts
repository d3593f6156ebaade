import type { BenchResults, HostileResult, HttpTargetName, HttpTargetResult, TargetCheck, TargetName, WasmResult } from './types.js';

/** DESIGN.md, Quality bars: same machine, same run, medians; issue 8 for the hostile bodies. */
export const TARGETS = {
  pipelineVsBare: 0.5,
  pipelineVsSidecar: 3,
  wasmP50Us: 30,
  hostileLoopMaxMs: 50,
} as const;

type Http = Partial<Record<HttpTargetName, HttpTargetResult>>;

export const HOSTILE_CHECK = 'gateway event-loop delay, 1 MiB hostile body';

/** The targets this run can judge (a ratio needs both of its targets measured). */
export function checkTargets(http: Http, wasm: WasmResult | undefined, hostile?: HostileResult): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const { bare, pipeline, sidecar } = http;
  if (pipeline && bare) {
    const measured = pipeline.rps / bare.rps;
    checks.push({ name: 'full pipeline vs bare Express', measured, required: TARGETS.pipelineVsBare, kind: 'min', unit: 'x', met: measured >= TARGETS.pipelineVsBare });
  }
  if (pipeline && sidecar) {
    const measured = pipeline.rps / sidecar.rps;
    checks.push({ name: 'full pipeline vs OPA REST sidecar', measured, required: TARGETS.pipelineVsSidecar, kind: 'min', unit: 'x', met: measured >= TARGETS.pipelineVsSidecar });
  }
  if (wasm) {
    checks.push({ name: 'WASM evaluate p50', measured: wasm.p50Us, required: TARGETS.wasmP50Us, kind: 'max', unit: 'us', met: wasm.p50Us <= TARGETS.wasmP50Us });
  }
  if (hostile && hostile.cases.length > 0) {
    const measured = hostile.maxLoopDelayMs;
    checks.push({ name: HOSTILE_CHECK, measured, required: TARGETS.hostileLoopMaxMs, kind: 'max', unit: 'ms', met: measured <= TARGETS.hostileLoopMaxMs });
  }
  return checks;
}

const LABELS: Record<Exclude<TargetName, 'hostile'>, string> = {
  bare: 'Bare Express (demo tool routes, no toolgate)',
  pipeline: 'Full pipeline (toolgate, file audit + fsync, in-memory state)',
  sidecar: 'OPA REST sidecar (Express + `opa run --server`)',
  wasm: 'WASM `PolicyEngine.evaluate` (allowed email.send)',
};

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a');
const us = (n: number) => `${n.toFixed(1)} µs`;
const x = (n: number) => `${n.toFixed(2)}×`;

function verdict(check: TargetCheck | undefined, text: (c: TargetCheck) => string): string | undefined {
  if (!check) return undefined;
  return `${text(check)}: ${check.met ? 'met' : '**MISSED**'}`;
}

/** The results as Markdown: one row per target, the DESIGN.md ratio next to the row it judges. */
export function toMarkdown(results: BenchResults): string {
  const { http, wasm, checks, options: o, machine: m } = results;
  const find = (name: string) => checks.find((c) => c.name === name);
  const vsBare = find('full pipeline vs bare Express');
  const vsSidecar = find('full pipeline vs OPA REST sidecar');
  const wasmCheck = find('WASM evaluate p50');
  const rows: string[] = [];
  if (http.bare) rows.push(`| ${LABELS.bare} | ${int(http.bare.rps)} | ${ms(http.bare.p50Ms)} | ${ms(http.bare.p99Ms)} | baseline for ≥ ${TARGETS.pipelineVsBare}× |`);
  if (http.pipeline) {
    const ratio = [
      verdict(vsBare, (c) => `${x(c.measured)} bare (target ≥ ${c.required}×)`),
      verdict(vsSidecar, (c) => `${x(c.measured)} sidecar (target ≥ ${c.required}×)`),
    ].filter(Boolean);
    rows.push(`| ${LABELS.pipeline} | ${int(http.pipeline.rps)} | ${ms(http.pipeline.p50Ms)} | ${ms(http.pipeline.p99Ms)} | ${ratio.join('<br>') || 'n/a (needs bare or sidecar in the same run)'} |`);
  }
  if (http.sidecar) rows.push(`| ${LABELS.sidecar} | ${int(http.sidecar.rps)} | ${ms(http.sidecar.p50Ms)} | ${ms(http.sidecar.p99Ms)} | baseline for ≥ ${TARGETS.pipelineVsSidecar}× |`);
  if (wasm) rows.push(`| ${LABELS.wasm} | — | ${us(wasm.p50Us)} | ${us(wasm.p99Us)} | ${verdict(wasmCheck, (c) => `p50 ${x(c.measured / c.required)} of the ${c.required} µs budget`)} |`);

  const perRound = Object.values(http)
    .map((h) => `${h.target} ${h.rounds.map((r) => int(r.rps)).join(' / ')}`)
    .join('; ');
  const inline = Object.values(http).reduce((n, h) => n + h.rounds.reduce((k, r) => k + r.signedInline, 0), 0);
  const missed = checks.filter((c) => !c.met).length;
  const hostile = results.hostile ? hostileSection(results.hostile, find(HOSTILE_CHECK)) : [];
  return [
    `## toolgate benchmark (${results.startedAt})`,
    '',
    '| target | req/s (median) | p50 | p99 | ratio vs target |',
    '|---|---:|---:|---:|---|',
    ...rows,
    '',
    `- ${o.rounds} rounds × ${o.durationS} s per HTTP target after ${o.warmupS} s warm-up, ${o.connections} keep-alive connections (autocannon, closed loop), rounds interleaved; medians of rounds. WASM: ${o.rounds} × ${o.wasmIterations} calls.`,
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, OPA ${m.opa ?? 'not run'}. Servers each in a child process; the load generator and OPA share the same CPUs.`,
    ...(perRound ? [`- req/s per round: ${perRound}.`] : []),
    `- Signatures for the replay-protected targets pre-generated before each round (signed inline during rounds: ${inline}).`,
    `- Targets: ${checks.length - missed} of ${checks.length} met${missed ? `, ${missed} MISSED` : ''}.`,
    '',
    ...hostile,
  ].join('\n');
}

/** Issue 8's scenario: one row per hostile body, the gateway's loop delay against the 50 ms target. */
function hostileSection(h: HostileResult, check: TargetCheck | undefined): string[] {
  const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} KiB`;
  return [
    '### Hostile bodies: the detectors\' worst inputs at the body limit',
    '',
    '| input | body | status | response | gateway loop max | loop p99 | detectors alone |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...h.cases.map((c) => `| ${c.origin === 'search' ? c.name : `${c.name} (fixed)`} | ${kib(c.bodyBytes)} | ${c.status} | ${ms(c.responseMs)} | ${ms(c.loopMaxMs)} | ${ms(c.loopP99Ms)} | ${ms(c.detectMs)} |`),
    '',
    `- One signed email.send at a time through the full pipeline (its own gateway process); the loop delay is read in that process (\`perf_hooks.monitorEventLoopDelay\`, 1 ms resolution) around each request. "Detectors alone": CPU time of \`detect\` on the same text in the bench process.`,
    `- Search: fast-check generated ${h.searched} strings (seed ${h.seed}), each repeated to 32 KiB and timed; the slowest ${h.cases.filter((c) => c.origin === 'search').length} are the \`search\` rows (${Math.round(h.searchMs)} ms).`,
    `- ${verdict(check, (c) => `Worst loop delay ${ms(c.measured)} (target ≤ ${c.required} ms)`) ?? 'No hostile body sent.'}.`,
    '',
  ];
}
