import { formatCrypto } from './crypto.js';
import { HOSTILE_WARMUP_CALLS } from './hostile-inputs.js';
import { profileMarkdown } from './profile.js';
import type { BenchResults, Floor, HostileResult, HttpTargetName, HttpTargetResult, LoadShapeResult, SoakResult, TargetCheck, WasmResult } from './types.js';

/** DESIGN.md, Quality bars, and issue 11: same machine, same run, medians of rounds; issue 8 for the hostile bodies. */
export const TARGETS = {
  floorMultiple: 1.5,
  pipelineVsBare: 0.5,
  pipelineVsFair: 3,
  pipelineVsSidecar: 2,
  addedP50Ms: 0.5,
  addedP99Ms: 2,
  wasmP50Us: 30,
  hostileLoopMaxMs: 50,
  /** "RSS flat": at most 1 MiB more per 100,000 calls (about 10 bytes a call, 10 MiB over the million). */
  rssSlopeKiBPer100k: 1024,
} as const;

export const CHECK = {
  floor: 'pipeline server CPU per allowed call vs the floor',
  vsBare: 'full pipeline vs bare Express',
  vsFair: 'full pipeline vs fair sidecar',
  vsSidecar: 'full pipeline vs cheapest sidecar',
  workersVsFair: 'full pipeline, one process per core, vs fair sidecar',
  workersVsSidecar: 'full pipeline, one process per core, vs cheapest sidecar',
  addedP50: 'added p50 over bare at 50% load',
  addedP99: 'added p99 over bare at 50% load',
  wasm: 'WASM evaluate p50',
  hostile: 'gateway event-loop delay, 1 MiB hostile body',
  soak: 'pipeline server RSS slope over the soak',
} as const;

export const HOSTILE_CHECK = CHECK.hostile;

function check(name: string, measured: number, required: number, kind: 'min' | 'max', unit: string, floor?: TargetCheck['floor']): TargetCheck {
  return { name, measured, required, kind, unit, met: kind === 'min' ? measured >= required : measured <= required, ...(floor && Number.isFinite(floor.value) ? { floor } : {}) };
}

/**
 * The most the ratio to bare Express can be on this machine: a gateway that does only the contract's least work per
 * call (the durable write alone's whole cost per call at saturation, its load generator's included, plus one Ed25519
 * verify, one evaluation and the call's two audit events) serves at most the machine's CPU time over that cost,
 * against bare Express's measured rate. Undefined unless every part was measured.
 */
function bareCeiling(sat: LoadShapeResult['targets'], floor: Floor | undefined, cpus: number | undefined): TargetCheck['floor'] {
  if (!sat.bare || !sat.durable || !floor || floor.auditEventsUs === undefined || !cpus) return undefined;
  const leastUs = machineCpuPerCall(sat.durable) + floor.verifyUs + floor.evaluateUs + floor.auditEventsUs;
  return { value: (cpus * 1e6) / leastUs / sat.bare.rps, basis: `${cpus} CPUs over the least a call of a gateway that records first costs the machine at saturation, ${us(leastUs)} (the durable write alone's whole cost per call, one Ed25519 verify, one evaluation and two audit events), against bare Express's ${int(sat.bare.rps)} req/s` };
}

/** Whether a check's floor (what this machine allows at best) is already past what it requires. */
export function outOfReach(c: TargetCheck): boolean {
  if (!c.floor) return false;
  return c.kind === 'max' ? c.floor.value > c.required : c.floor.value < c.required;
}

/** The closed-loop shape with the most connections: throughput at saturation. */
export function saturation(http: readonly LoadShapeResult[]): LoadShapeResult | undefined {
  return http.filter((h) => h.shape !== 'open').sort((a, b) => b.connections - a.connections)[0];
}

/** The targets this run can judge (a ratio needs both of its targets measured). */
export function checkTargets(http: readonly LoadShapeResult[], wasm: WasmResult | undefined, hostile?: HostileResult, floor?: Floor, soak?: SoakResult, cpus?: number): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (floor) {
    // Every allowed call is recorded durably before its tool runs, in hash-chained audit events (the design's audit
    // contract), which the floor's three parts leave out: the durable write alone's CPU over bare Express's, in the
    // same shape, is the least any gateway that records first adds to them on this machine's disk, and the call's two
    // events, made the cheapest way this run measured, the least the chain adds.
    const first = recordingFirst(floor);
    const events = first && first.eventsUs > 0 ? `, and ${us(first.eventsUs)} for the call's two hash-chained audit events (decision and completion), the cheapest way measured in this run` : '';
    const multipleFloor: TargetCheck['floor'] = first && { value: first.leastUs / floor.totalUs, basis: `the floor plus what the durable write alone adds to bare Express's server CPU in the same shape, ${us(first.diskUs)} a call${events}` };
    checks.push(check(CHECK.floor, floor.multiple, TARGETS.floorMultiple, 'max', 'x', multipleFloor));
  }
  const sat = saturation(http)?.targets ?? {};
  if (sat.pipeline && sat.bare) checks.push(check(CHECK.vsBare, sat.pipeline.rps / sat.bare.rps, TARGETS.pipelineVsBare, 'min', 'x', bareCeiling(sat, floor, cpus)));
  if (sat.pipeline && sat.fair) checks.push(check(CHECK.vsFair, sat.pipeline.rps / sat.fair.rps, TARGETS.pipelineVsFair, 'min', 'x'));
  if (sat.pipeline && sat.sidecar) checks.push(check(CHECK.vsSidecar, sat.pipeline.rps / sat.sidecar.rps, TARGETS.pipelineVsSidecar, 'min', 'x'));
  // The same ratios with the pipeline deployed as one process per core: the sidecars already use every core (OPA
  // is its own process, and saturates the machine), so this is the comparison a deployment on this machine makes.
  if (sat.workers && sat.fair) checks.push(check(CHECK.workersVsFair, sat.workers.rps / sat.fair.rps, TARGETS.pipelineVsFair, 'min', 'x'));
  if (sat.workers && sat.sidecar) checks.push(check(CHECK.workersVsSidecar, sat.workers.rps / sat.sidecar.rps, TARGETS.pipelineVsSidecar, 'min', 'x'));
  const open = http.find((h) => h.shape === 'open')?.targets;
  if (open?.pipeline && open.bare) {
    // The floor of the added latency: the durable write alone at the same offered rate (the decision is on disk
    // before the tool runs), and for the median also what every call does, one after the other, before that write:
    // the verify, the evaluation and its decision's hash-chained audit event (made the cheapest way measured).
    const { durable, bare } = open;
    const disk = 'the durable write alone over bare';
    let p50Floor: TargetCheck['floor'];
    let p99Floor: TargetCheck['floor'];
    if (durable) {
      const event = floor?.decisionEventUs;
      const steps = event === undefined ? 'one Ed25519 verify and one WASM evaluation' : `one Ed25519 verify, one WASM evaluation and the decision's audit event (${us(event)}, the cheapest way measured in this run)`;
      p50Floor = floor
        ? { value: durable.p50Ms - bare.p50Ms + (floor.verifyUs + floor.evaluateUs + (event ?? 0)) / 1000, basis: `${disk}, plus ${steps}` }
        : { value: durable.p50Ms - bare.p50Ms, basis: disk };
      p99Floor = { value: durable.p99Ms - bare.p99Ms, basis: disk };
    }
    checks.push(check(CHECK.addedP50, open.pipeline.p50Ms - bare.p50Ms, TARGETS.addedP50Ms, 'max', 'ms', p50Floor));
    checks.push(check(CHECK.addedP99, open.pipeline.p99Ms - bare.p99Ms, TARGETS.addedP99Ms, 'max', 'ms', p99Floor));
  }
  if (wasm) checks.push(check(CHECK.wasm, wasm.p50Us, TARGETS.wasmP50Us, 'max', 'us'));
  if (hostile && hostile.cases.length > 0) checks.push(check(CHECK.hostile, hostile.maxLoopDelayMs, TARGETS.hostileLoopMaxMs, 'max', 'ms'));
  if (soak && Number.isFinite(soak.slopeKiBPer100k)) checks.push(check(CHECK.soak, soak.slopeKiBPer100k, TARGETS.rssSlopeKiBPer100k, 'max', 'KiB'));
  return checks;
}

/** What one call costs the whole machine at a load shape: the server, OPA (sidecars), Redis (workers) and the load generator, µs. */
export function machineCpuPerCall(t: HttpTargetResult): number {
  return t.cpuUsPerCall + (t.opaCpuUsPerCall ?? 0) + (t.redisCpuUsPerCall ?? 0) + t.loadCpuUsPerCall;
}

export interface CpuCeiling {
  /** The most pipeline/other throughput this machine allows at the measured CPU costs. */
  readonly ratio: number;
  /** The pipeline's server CPU per call that `required` would take, the rest of its call's cost (load generator, Redis) unchanged (µs). */
  readonly neededServerUs: number;
}

/**
 * With every core working for a target (the pipeline given more gateway processes, the sidecar keeping its cost per
 * call), its throughput is the machine's CPU time over what one call costs the machine, so the pipeline's ratio
 * over `other` can be no more than other's machine CPU per call over the pipeline's, however the pipeline is
 * deployed: a ratio target above this ceiling is out of reach on this machine until a call costs less CPU.
 */
export function cpuCeiling(pipeline: HttpTargetResult, other: HttpTargetResult, required: number): CpuCeiling {
  const mine = machineCpuPerCall(pipeline);
  // What the pipeline's call costs besides its server (the load generator, Redis) stays as it is.
  return { ratio: machineCpuPerCall(other) / mine, neededServerUs: machineCpuPerCall(other) / required - (mine - pipeline.cpuUsPerCall) };
}

const LABELS: Record<HttpTargetName, string> = {
  bare: 'Bare Express (demo tool routes, no toolgate): the ceiling',
  durable: 'Durable write alone (bare Express + the audit file\'s durable append of a decision before the tool): the latency floor',
  pipeline: 'Full pipeline (toolgate: signature, WASM policy, limits, audit fsync\'d, span)',
  workers: 'Full pipeline, one process per core (`serve --workers N`: nonces, limits and uploads in Redis)',
  fair: 'Fair sidecar (the same pipeline, decision from `opa run --server` over REST)',
  sidecar: 'Cheapest sidecar (signature check + input, OPA REST; no audit, no spans)',
};

const SHORT: Record<HttpTargetName, string> = { bare: 'bare Express', durable: 'durable write alone', pipeline: 'one process', workers: 'one process per core', fair: 'fair sidecar', sidecar: 'cheapest sidecar' };

const pct = (n: number) => (Number.isFinite(n) ? `${Math.round(n * 100)} %` : 'n/a');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : 'n/a');
const us = (n: number) => (Number.isFinite(n) ? `${n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')} µs` : 'n/a');
const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a');
const num = (c: TargetCheck) => (c.unit === 'x' ? x(c.measured) : c.unit === 'ms' ? ms(c.measured) : c.unit === 'KiB' ? `${int(c.measured)} KiB per 100,000 calls` : us(c.measured));

function cpu(t: HttpTargetResult): string {
  return `${us(t.cpuUsPerCall)}${t.opaCpuUsPerCall === undefined ? '' : ` + OPA ${us(t.opaCpuUsPerCall)}`}${t.redisCpuUsPerCall === undefined ? '' : ` + Redis ${us(t.redisCpuUsPerCall)}`}`;
}

/** The results as Markdown: load shapes, the floor, in-process measurements, growth, and every target met or missed. */
export function toMarkdown(results: BenchResults): string {
  const { http, wasm, checks, options: o, machine: m, floor } = results;
  const lines: string[] = [`## toolgate benchmark (${results.startedAt})`, ''];
  const closed = http.filter((h) => h.shape !== 'open');
  if (closed.length) {
    lines.push('| target | connections | req/s | p50 | p99 | server CPU / call | load generator CPU / call | machine CPU busy | vs pipeline |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const h of closed) {
      const p = h.targets.pipeline;
      for (const t of Object.values(h.targets)) {
        lines.push(`| ${LABELS[t.target]} | ${h.connections} | ${int(t.rps)} | ${ms(t.p50Ms)} | ${ms(t.p99Ms)} | ${cpu(t)} | ${us(t.loadCpuUsPerCall)} | ${pct(t.machineBusy)} | ${p && t.target !== 'pipeline' ? `pipeline ${x(p.rps / t.rps)}` : '—'} |`);
      }
    }
    lines.push('');
    lines.push(...ceilingLines(saturation(http)));
  }
  const open = http.find((h) => h.shape === 'open');
  if (open) {
    const bare = open.targets.bare;
    lines.push(`Open loop at ${int(open.rate ?? 0)} req/s (${Math.round(o.openFraction * 100)} % of the pipeline's best closed-loop rate), requests on a fixed schedule, latency from each one's due time:`, '');
    lines.push('| target | p50 | p99 | p99.9 | added over bare (p50 / p99 / p99.9) | server CPU / call | machine CPU busy | server loop held: p99 / max |', '|---|---:|---:|---:|---|---:|---:|---:|');
    for (const t of Object.values(open.targets)) {
      const added = bare && t.target !== 'bare' ? `${ms(t.p50Ms - bare.p50Ms)} / ${ms(t.p99Ms - bare.p99Ms)} / ${ms(t.p999Ms - bare.p999Ms)}` : '—';
      lines.push(`| ${LABELS[t.target]} | ${ms(t.p50Ms)} | ${ms(t.p99Ms)} | ${ms(t.p999Ms)} | ${added} | ${cpu(t)} | ${pct(t.machineBusy)} | ${ms(t.loopP99Ms)} / ${ms(t.loopMaxMs)} |`);
    }
    const lost = Object.values(open.targets).filter((t) => t.rounds.some((r) => r.errors > 0));
    if (lost.length) {
      lines.push('', `Offered more than it served in the closed loops, ${lost.map((t) => `${LABELS[t.target]} did not answer ${int(t.rounds.reduce((a, r) => a + r.errors, 0))} of its requests within 10 s (over ${t.rounds.length} rounds)`).join('; ')}: those are not in its percentiles, which are therefore lower than what its callers saw.`);
    }
    if (open.targets.durable) lines.push('', 'Durable write alone: what the disk adds when each decision must be on disk before its tool runs, as the audit file makes it (group commit: one O_DSYNC append for every decision waiting; a completion line after each answer, carried by the next decision\'s write within 3 ms as in the pipeline), with no other work: no gateway can answer faster than this and record first.');
    lines.push('', 'Machine CPU busy: the share of both CPUs in use over each round (/proc/stat), the load generator and every other process included; near 100 % the machine itself queues the requests. Server loop held: how long the server\'s event loop could not start new work (perf_hooks.monitorEventLoopDelay in the server process, 1 ms resolution), the 99th percentile and the longest over a round; a request that arrives during a hold waits for it.');
    lines.push('');
  }
  if (floor) {
    lines.push(
      `**Floor** of one allowed call: Ed25519 verify ${us(floor.verifyUs)} + WASM evaluate of the bench call ${us(floor.evaluateUs)} + bare Express's server CPU ${us(floor.bareCpuUs)} = **${us(floor.totalUs)}**. The pipeline's server CPU per allowed call: **${us(floor.pipelineCpuUs)} = ${x(floor.multiple)} the floor** (target ≤ ${TARGETS.floorMultiple}×).${durableNote(floor)}`,
      '',
    );
  }
  if (wasm) {
    const runtime = wasm.runtimeFloorP50Us;
    const split = runtime === undefined ? '' : ` Of the demo decision's p50, ${us(runtime)} is OPA's WASM runtime and the engine alone (a one-rule policy returning the same decision for the same input: the input parsed into WASM memory, the result serialised and parsed back, the decision contract checked) and ${us(wasm.p50Us - runtime)} the demo policy's rules.`;
    lines.push(`WASM \`PolicyEngine.evaluate\`, the demo decision (allowed email.send with an attachment): p50 ${us(wasm.p50Us)}, p99 ${us(wasm.p99Us)}; the HTTP bench call's input: p50 ${us(wasm.benchInputP50Us)}.${split}`, '');
    if (wasm.profile) lines.push(wasmProfileText(wasm.profile), '');
  }
  if (results.micro?.length) {
    lines.push('| stage (in process, one call at a time) | p50 | p99 |', '|---|---:|---:|', ...results.micro.map((s) => `| ${s.name} | ${us(s.p50Us)} | ${us(s.p99Us)} |`), '');
  }
  if (results.crypto?.length) lines.push('Ed25519 and the audit record, CPU per operation (libsodium unless it could not load; audit v2 signs one checkpoint per durable batch):', '', formatCrypto(results.crypto), '');
  if (results.dataSize?.length) {
    lines.push('| policy data (recipients of the bench agent, allowed and usual) | WASM evaluate p50 | p99 |', '|---:|---:|---:|', ...results.dataSize.map((d) => `| ${int(d.entries)} | ${us(d.p50Us)} | ${us(d.p99Us)} |`), '');
  }
  if (results.body?.length) {
    lines.push(`| body size (closed loop, ${o.connections[0] ?? 10} connections) | bare req/s | bare CPU / call | pipeline req/s | pipeline CPU / call | pipeline vs bare |`, '|---:|---:|---:|---:|---:|---:|');
    for (const b of results.body) {
      lines.push(`| ${int(b.bytes)} B | ${b.bare ? int(b.bare.rps) : 'n/a'} | ${b.bare ? us(b.bare.cpuUsPerCall) : 'n/a'} | ${b.pipeline ? int(b.pipeline.rps) : 'n/a'} | ${b.pipeline ? us(b.pipeline.cpuUsPerCall) : 'n/a'} | ${b.bare && b.pipeline ? x(b.pipeline.rps / b.bare.rps) : 'n/a'} |`);
    }
    lines.push('');
  }
  const perRound = closed.flatMap((h) => Object.values(h.targets).map((t) => `${t.target}@${h.connections} ${t.rounds.map((r) => int(r.rps)).join(' / ')}`)).join('; ');
  const inline = http.reduce((n, h) => n + Object.values(h.targets).reduce((k, t) => k + t.rounds.reduce((j, r) => j + r.signedInline, 0), 0), 0);
  const missed = checks.filter((c) => !c.met).length;
  lines.push(
    `- ${o.rounds} rounds × ${o.durationS} s per target and shape after ${o.warmupS} s warm-up, rounds interleaved; medians of rounds (autocannon, keep-alive). Server CPU: utime + stime of the server process (all threads) from /proc/<pid>/stat over each round, per 2xx. WASM: ${o.rounds} × ${o.wasmIterations} calls.`,
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, OPA ${m.opa ?? 'not run'}. Servers each in a child process; the load generator and OPA share the same CPUs.`,
    ...(perRound ? [`- req/s per round: ${perRound}.`] : []),
    `- Signatures pre-generated before each round (signed inline during measured rounds: ${inline}).`,
    '',
    `**Targets: ${checks.length - missed} of ${checks.length} met${missed ? `, ${missed} missed` : ''}.**`,
    '',
    ...checks.map((c) => `- ${c.name}: ${num(c)} (target ${c.kind === 'min' ? '≥' : '≤'} ${c.required}${c.unit === 'x' ? '×' : ` ${c.unit === 'us' ? 'µs' : c.unit}`}): ${c.met ? 'met' : '**missed**'}${floorNote(c)}`),
    '',
  );
  if (results.hostile) lines.push(...hostileSection(results.hostile, checks.find((c) => c.name === HOSTILE_CHECK)));
  if (results.soak) lines.push(...soakSection(results.soak));
  if (results.soakFailed !== undefined) lines.push(`**The soak stopped, so this run failed** (its RSS slope is not judged): ${results.soakFailed}`, '');
  if (results.profile) {
    const p = results.profile;
    lines.push(...profileMarkdown(p), `- The kernel's count for the same load without the profiler (/proc): ${Math.round(p.cpuUsPerCall)} µs per call at ${Math.round(p.rps)} req/s; by thread (of which in the kernel): ${p.threadCpu.map((t) => `${t.name} ${Math.round(t.usPerCall)} (${Math.round(t.sysUsPerCall)})`).join(', ')} µs. With the profiler: ${Math.round(p.profiledCpuUsPerCall)} µs per call. The profile's times are wall time between samples, so a thread preempted after waking another (the evaluator round trip, socket writes) shows more than its CPU: read the profile for shares.`, '');
  }
  return lines.join('\n');
}

/**
 * The least server CPU per call of a gateway that records each decision durably before its tool runs: the floor, the
 * durable write alone's CPU over bare Express's in the same shape, and the call's audit events when they were
 * measured (undefined when the durable write was not).
 */
function recordingFirst(floor: Floor): { diskUs: number; eventsUs: number; leastUs: number } | undefined {
  if (floor.durableCpuUs === undefined) return undefined;
  const diskUs = Math.max(0, floor.durableCpuUs - floor.bareCpuUs);
  const eventsUs = floor.auditEventsUs ?? 0;
  return { diskUs, eventsUs, leastUs: floor.totalUs + diskUs + eventsUs };
}

/** The durable write's share of the floor multiple, when the durable target ran in the floor's shape. */
function durableNote(floor: Floor): string {
  const first = recordingFirst(floor);
  if (!first) return '';
  const events = first.eventsUs > 0 ? ` and makes its two hash-chained audit events (${us(first.eventsUs)}, the cheapest way measured in this run)` : '';
  return ` The durable write alone costs ${us(floor.durableCpuUs!)} of server CPU per request in the same shape, ${us(first.diskUs)} over bare Express: a gateway that records each decision durably before its tool runs${events} needs at least ${us(first.leastUs)} a call here, ${x(first.leastUs / floor.totalUs)} the floor; the pipeline's own work above that is ${us(floor.pipelineCpuUs - first.leastUs)} a call (the pipeline is ${x(floor.pipelineCpuUs / first.leastUs)} that least).`;
}

/** A check's floor, when it has one: whether the target is out of reach on this machine at all. */
function floorNote(c: TargetCheck): string {
  if (!c.floor) return '';
  const value = num({ ...c, measured: c.floor.value });
  // A target to stay above has a ceiling (the most this machine allows), one to stay below a floor.
  const bound = c.kind === 'min' ? 'ceiling' : 'floor';
  return outOfReach(c) ? `, out of reach on this machine: its ${bound} is ${value} (${c.floor.basis})` : ` (${bound} ${value}: ${c.floor.basis})`;
}

/** The sidecar ratios' CPU-bound ceilings at saturation (cpuCeiling), for each pipeline deployment measured beside a sidecar. */
function ceilingLines(sat: LoadShapeResult | undefined): string[] {
  if (!sat) return [];
  const rows = (['pipeline', 'workers'] as const).flatMap((mine) => {
    const p = sat.targets[mine];
    if (!p) return [];
    return ([['fair', TARGETS.pipelineVsFair], ['sidecar', TARGETS.pipelineVsSidecar]] as const).flatMap(([name, required]) => {
      const t = sat.targets[name];
      if (!t) return [];
      const c = cpuCeiling(p, t, required);
      return [`| ${SHORT[mine]} (${us(machineCpuPerCall(p))}) | ${SHORT[name]} (${us(machineCpuPerCall(t))}) | ${x(p.rps / t.rps)} | **${x(c.ratio)}** | ${required}× | ${us(c.neededServerUs)} |`];
    });
  });
  if (rows.length === 0) return [];
  return [
    `CPU-bound ceiling at ${sat.connections} connections. What one call costs the whole machine: server, OPA, Redis and the load generator. With every core working for it, a target's throughput is the machine's CPU time over that cost, so the pipeline's ratio over a sidecar can be at most the sidecar's cost over the pipeline's, however the pipeline is deployed:`,
    '',
    '| pipeline (machine CPU / call) | against (machine CPU / call) | measured ratio | ceiling on this machine | target | pipeline server CPU / call the target needs |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

/** Issue 8's scenario: one row per hostile body, the gateway's loop delay against the 50 ms target. */
function hostileSection(h: HostileResult, c: TargetCheck | undefined): string[] {
  const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} KiB`;
  return [
    '### Hostile bodies: the detectors\' worst inputs at the body limit',
    '',
    '| input | body | status | response | gateway loop max | loop p99 | detectors alone |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...h.cases.map((k) => `| ${k.origin === 'search' ? k.name : `${k.name} (fixed)`} | ${kib(k.bodyBytes)} | ${k.status} | ${ms(k.responseMs)} | ${ms(k.loopMaxMs)} | ${ms(k.loopP99Ms)} | ${ms(k.detectMs)} |`),
    '',
    `- One signed email.send at a time through the full pipeline (its own gateway process, warmed by ${HOSTILE_WARMUP_CALLS} ordinary calls); the loop delay is read in that process (\`perf_hooks.monitorEventLoopDelay\`, 1 ms resolution) around each request. "Detectors alone": CPU time of \`detect\` on the same text in the bench process.`,
    `- Search: fast-check generated ${h.searched} strings (seed ${h.seed}), each repeated to 32 KiB and timed; the slowest ${h.cases.filter((k) => k.origin === 'search').length} are the \`search\` rows (${Math.round(h.searchMs)} ms).`,
    `- ${c ? `Worst loop delay ${ms(c.measured)} (target ≤ ${c.required} ms): ${c.met ? 'met' : '**missed**'}` : 'No hostile body sent'}.`,
    '',
  ];
}

/** The soak (only when named): the pipeline server's RSS over a long run of allowed calls. */
function soakSection(k: SoakResult): string[] {
  const mib = (n: number) => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} MiB` : 'n/a');
  const perCall = (kib: number) => (Number.isFinite(kib) ? `${Math.round(kib).toLocaleString('en-US')} KiB per 100,000 calls` : 'n/a');
  return [
    '### Soak: the pipeline server\'s RSS over a long run',
    '',
    `${int(k.calls)} allowed calls in ${Math.round(k.seconds)} s (${int(k.calls / k.seconds)} req/s). RSS ${mib(k.rssStartKiB)} at start, ${mib(k.rssAfterWarmupKiB)} after ${int(k.warmupCalls)} calls of warm-up, ${mib(k.rssEndKiB)} at the end (max ${mib(k.rssMaxKiB)}); slope after warm-up **${perCall(k.slopeKiBPer100k)}** (least squares over the samples read after every 10,000 calls${k.halfSlopesKiBPer100k ? `; over their first half ${perCall(k.halfSlopesKiBPer100k[0])}, over their second ${perCall(k.halfSlopesKiBPer100k[1])}: a leak climbs in both, RSS wandering around a level does not` : ''}). Live memory after a full collection (JavaScript heap in use plus external memory), slope after warm-up: **${perCall(k.liveSlopeKiBPer100k)}**.`,
    '',
    '| calls | live heap | external | of which the replay table | heap V8 holds | RSS after the collection |',
    '|---:|---:|---:|---:|---:|---:|',
    ...k.live.map((l) => `| ${int(l.calls)} | ${mib(l.heapUsedKiB)} | ${mib(l.externalKiB)} | ${l.replayKiB === undefined ? 'n/a' : mib(l.replayKiB)} | ${mib(l.heapTotalKiB)} | ${mib(l.rssKiB)} |`),
    '',
  ];
}

/** The demo decision's profile in one paragraph: the kinds' shares, then the largest rules and runtime parts. */
export function wasmProfileText(p: NonNullable<WasmResult['profile']>): string {
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const part = (x: (typeof p.parts)[number]) => `${x.name.replace(/^data\.toolgate\./, '').replace(/^\((.*)\)$/, '$1')} ${us(x.usPerEvaluation)} (${pct(x.share)})`;
  const rules = p.parts.filter((x) => x.kind === 'rule').slice(0, 5);
  const other = p.parts.filter((x) => x.kind !== 'rule').slice(0, 4);
  return `Where the demo decision's time goes (\`toolgate policy profile\`: V8's sampling profiler, each sample charged to the innermost rule on its stack; ${us(p.cpuUsPerEvaluation)} of CPU per evaluation without the profiler): the rules ${pct(p.totals.rule)}, OPA's runtime outside any rule ${pct(p.totals.runtime)}, outside WASM ${pct(p.totals.outside)}${p.totals.unattributed >= 0.005 ? `, inside WASM with its callers lost to the profiler ${pct(p.totals.unattributed)}` : ''}. The largest rules: ${rules.map(part).join(', ')}. Outside the rules: ${other.map(part).join('; ')}.`;
}
