import { cpus } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startServerChild, type LoopDelay, type ServerChild, type ServerSpec } from './children.js';
import { cpuMs, machineBusy, machineTicks, treeCpuMs } from './cpu.js';
import { runLoad } from './load.js';
import { runOpenLoop } from './open-loop.js';
import { benchCallInput, benchDataSize, benchStages } from './micro.js';
import { auditEventsUs, benchCrypto, decisionEventUs } from './crypto.js';
import { opaVersion, resolveOpa, startOpa, type OpaSidecar } from './opa.js';
import { checkTargets } from './report.js';
import { SignedRequests } from './signed-requests.js';
import { median } from './stats.js';
import { HTTP_TARGETS, type BenchOptions, type BenchResults, type BodySizeResult, type Floor, type HttpTargetName, type HttpTargetResult, type LoadRound, type LoadShapeResult } from './types.js';
import { benchHostile } from './hostile.js';
import { benchWasm } from './wasm.js';
import { runSoak } from './soak.js';
import { refusedInAudit } from './audit-refusals.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { startWorkersGateway } from './workers.js';
import { runProfile } from './profile-run.js';
import { loadBundle } from '../policy/index.js';
import { BENCH_AGENT, BENCH_ARGS, BENCH_BODY, BENCH_PATH, prepareWorkspace } from './workspace.js';

/** Progress lines (stderr in the CLI, nothing in tests). */
export type Log = (line: string) => void;

/** Signatures made before a target's first load, when its rate is not known yet. */
const FIRST_POOL = 500;

/** Gateway processes of the multi-process pipeline: one per core, at least two. */
export const WORKER_PROCESSES = Math.max(2, cpus().length);

/** The open loop opens connections as it needs them (open-loop.ts); recorded as 0. */
const OPEN_CONNECTIONS = 0;

/** Body sizes of the growth measurement (bytes of the whole JSON body, under the 1 MiB body limit). */
export const BODY_SIZES = [1_000, 100_000, 1_000_000] as const;

interface Running {
  readonly target: HttpTargetName;
  readonly url: string;
  /** Where the target keeps its state (its audit files), when it keeps any. */
  readonly stateDir?: string;
  /** OPA's process, for the sidecars. */
  readonly opaPid: number | undefined;
  /** The Redis server's process, for the multi-process pipeline. */
  readonly redisPid: number | undefined;
  /** The server's CPU so far, ms: its own process, or the primary and its workers. */
  readonly cpuMs: () => number;
  /** Present when the target verifies signatures (all but bare). */
  readonly signed: SignedRequests | undefined;
  readonly body: string;
  /** Fastest rate seen so far (req/s); sizes the next pool of signatures. */
  estimateRps: number | undefined;
  /** The server's event-loop delay since the previous reading (every target runs the same child entry). */
  loopDelay(): Promise<LoopDelay>;
}

/** The multi-process pipeline's loop delay is not read (serve has no IPC channel to the bench): NaN, shown as n/a. */
const noLoopDelay = (): Promise<LoopDelay> => Promise.resolve({ maxMs: Number.NaN, p99Ms: Number.NaN, meanMs: Number.NaN });

export class BenchError extends Error {
  override readonly name = 'BenchError';
}

/** Seconds of the demo decision under the sampling profiler, for the report's breakdown of the WASM p50. */
const WASM_PROFILE_S = 2;

/**
 * Runs the benchmark: in-process measurements first (WASM, stage micro-benchmarks, policy data size; nothing else
 * running), then the HTTP targets, each server in its own child process, warmed up, then measured round-robin
 * (round r starts with a different target) so drift on a shared machine spreads over all of them, for each load
 * shape: closed loop at each connection count, then an open loop at a fraction of the pipeline's best rate.
 * Then body sizes and the hostile bodies. Everything started is stopped and the scratch directory removed, on
 * success or failure. Throws on errors — a server that fails, a measured request that is not the allowed 2xx —
 * never on a missed target (see `checks`).
 */
export async function runBench(options: BenchOptions, log: Log = () => undefined): Promise<BenchResults> {
  const startedAt = new Date().toISOString();
  const workspace = await prepareWorkspace(options);
  const removeOnExit = () => workspace.remove();
  process.once('exit', removeOnExit);
  const stops: (() => Promise<void>)[] = [];
  let opaBin: string | undefined;
  try {
    const wanted = new Set(options.targets);
    let wasm: BenchResults['wasm'];
    if (wanted.has('wasm')) {
      log(`wasm: ${options.rounds} x ${options.wasmIterations} evaluate() calls after ${options.wasmWarmup} warm-up`);
      opaBin ??= resolveOpa(options.opa);
      wasm = await benchWasm({ bundleDir: workspace.bundleDir, iterations: options.wasmIterations, warmup: options.wasmWarmup, rounds: options.rounds, benchInput: benchCallInput(), opa: opaBin, profileSeconds: WASM_PROFILE_S });
      log(`wasm: p50 ${wasm.p50Us.toFixed(1)} us, p99 ${wasm.p99Us.toFixed(1)} us; bench call input p50 ${wasm.benchInputP50Us.toFixed(1)} us`);
    }
    let micro: BenchResults['micro'];
    let crypto: BenchResults['crypto'];
    let dataSize: BenchResults['dataSize'];
    if (wanted.has('micro')) {
      const small = { iterations: Math.max(50, Math.round(options.wasmIterations / 10)), rounds: options.rounds };
      micro = await benchStages(workspace, small);
      for (const m of micro) log(`micro: ${m.name}: p50 ${m.p50Us.toFixed(1)} us`);
      crypto = benchCrypto({ iterations: Math.max(200, small.iterations), rounds: options.rounds });
      for (const c of crypto) log(`crypto: ${c.name}: ${c.us.toFixed(1)} us`);
      dataSize = await benchDataSize(await loadBundle(workspace.bundleDir), { iterations: Math.max(20, Math.round(small.iterations / 4)), rounds: options.rounds });
      for (const m of dataSize) log(`data size: ${m.entries}: p50 ${m.p50Us.toFixed(1)} us`);
    }

    let opa: OpaSidecar | undefined;
    let redis: RedisServer | undefined;
    const startTarget = async (target: HttpTargetName, body = BENCH_BODY): Promise<Running> => {
      let serverSpec: ServerSpec;
      const stateDir = join(workspace.stateDir, `${target}-${stops.length}`);
      mkdirSync(stateDir, { recursive: true });
      if (target === 'workers') {
        if (!redis) {
          const started = await startRedisServer();
          redis = started;
          stops.push(() => started.stop());
          log(`redis (pid ${started.pid}) at ${started.url}`);
        }
        const gw = await startWorkersGateway({ workers: WORKER_PROCESSES, bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir, redisUrl: redis.url, redisPrefix: `bench-${stops.length}:` });
        stops.push(() => gw.stop());
        log(`${target}: serve --workers ${WORKER_PROCESSES} (primary pid ${gw.pid}) at ${gw.url}`);
        const signed = new SignedRequests(workspace.agents.keys[BENCH_AGENT], `${gw.url}${BENCH_PATH}`, body);
        await preflight(target, gw.url, signed, body);
        return { target, url: gw.url, stateDir, cpuMs: () => treeCpuMs(gw.pid), opaPid: undefined, redisPid: redis.pid, signed, body, estimateRps: undefined, loopDelay: noLoopDelay };
      }
      if (target === 'bare') serverSpec = { kind: 'bare' };
      else if (target === 'durable') serverSpec = { kind: 'durable', stateDir };
      else if (target === 'pipeline') serverSpec = { kind: 'pipeline', bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir };
      else {
        if (!opa) {
          opaBin ??= resolveOpa(options.opa);
          const started = await startOpa(opaBin, workspace.opaPolicyDir);
          opa = started;
          stops.push(() => started.stop());
          log(`opa (pid ${started.pid}) at ${started.url}`);
        }
        serverSpec = target === 'fair' ? { kind: 'fair', opaUrl: opa.url, bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir } : { kind: 'sidecar', opaUrl: opa.url, jwksFile: workspace.agents.jwksFile };
      }
      const child: ServerChild = await startServerChild(serverSpec);
      stops.push(() => child.stop());
      log(`${target}: server (pid ${child.pid}) at ${child.url}`);
      const signed = target === 'bare' || target === 'durable' ? undefined : new SignedRequests(workspace.agents.keys[BENCH_AGENT], `${child.url}${BENCH_PATH}`, body);
      await preflight(target, child.url, signed, body);
      return { target, url: child.url, stateDir, cpuMs: () => cpuMs(child.pid), opaPid: target === 'fair' || target === 'sidecar' ? opa?.pid : undefined, redisPid: undefined, signed, body, estimateRps: undefined, loopDelay: () => child.loopDelay() };
    };

    const load = async (r: Running, durationS: number, connections: number, rate?: number): Promise<LoadRound> => {
      // Three times the fastest rate seen so far: a warmed-up round outruns the warm-up (run N: `workers` warmed up at
      // 398 req/s, then ran 853), and a pool that runs dry moves signing into the load generator mid-measurement
      // (about 0.1-0.3 ms of CPU per request).
      // Before any estimate (the warm-up) a small pool: the rest is signed inline, unmeasured, and a 1 MB body
      // costs milliseconds per signature (its digest).
      r.signed?.refill(rate ? rate * durationS + 4 * connections : r.estimateRps ? r.estimateRps * 3 * durationS + 4 * connections : FIRST_POOL);
      await r.loopDelay(); // starts this round's measurement
      const cpu0 = r.cpuMs();
      const machine0 = machineTicks();
      const opa0 = r.opaPid ? cpuMs(r.opaPid) : Number.NaN;
      const redis0 = r.redisPid ? cpuMs(r.redisPid) : Number.NaN;
      const generator0 = process.cpuUsage();
      const headers = r.signed?.next ?? noHeaders;
      const out = rate
        ? await runOpenLoop({ url: r.url, path: BENCH_PATH, body: r.body, rate, durationS, headers })
        : await runLoad({ url: r.url, path: BENCH_PATH, body: r.body, connections, durationS, headers });
      const generator = process.cpuUsage(generator0);
      const cpuUs = ((r.cpuMs() - cpu0) * 1000) / out.ok;
      const busy = machineBusy(machine0, machineTicks());
      const loop = await r.loopDelay();
      const opaUs = r.opaPid ? ((cpuMs(r.opaPid) - opa0) * 1000) / out.ok : undefined;
      const redisUs = r.redisPid ? ((cpuMs(r.redisPid) - redis0) * 1000) / out.ok : undefined;
      if (out.non2xx > 0 || out.ok === 0 || (out.errors > 0 && !overloaded(rate, r.estimateRps))) {
        throw new BenchError(`${r.target}: ${out.ok} allowed responses, ${out.non2xx} others ${JSON.stringify(out.statuses)}, ${out.errors} socket errors/timeouts: the measured path must be the allowed call only${await refusedInAudit(r.stateDir)}`);
      }
      if (!rate) r.estimateRps = Math.max(r.estimateRps ?? 0, out.rps);
      const { statuses: _statuses, ...measured } = out;
      return { ...measured, signedInline: r.signed?.signedInline ?? 0, cpuUsPerCall: cpuUs, machineBusy: busy, loadCpuUsPerCall: (generator.user + generator.system) / out.ok, loopMaxMs: loop.maxMs, loopP99Ms: loop.p99Ms, ...(opaUs !== undefined ? { opaCpuUsPerCall: opaUs } : {}), ...(redisUs !== undefined ? { redisCpuUsPerCall: redisUs } : {}) };
    };

    /** Warm-up once, then `rounds` interleaved rounds over `running`; the medians per target. */
    const measure = async (label: string, running: readonly Running[], connections: number, rate?: number): Promise<Partial<Record<HttpTargetName, HttpTargetResult>>> => {
      if (options.warmupS > 0) {
        for (const r of running) log(`${label} ${r.target}: warm-up ${Math.round((await load(r, options.warmupS, connections, rate)).rps)} req/s`);
      }
      const rounds = new Map<Running, LoadRound[]>(running.map((r) => [r, []]));
      for (let round = 0; round < options.rounds; round++) {
        for (let i = 0; i < running.length; i++) {
          const r = running[(round + i) % running.length]!;
          const m = await load(r, options.durationS, connections, rate);
          rounds.get(r)!.push(m);
          log(`${label} ${r.target}: round ${round + 1}/${options.rounds}: ${Math.round(m.rps)} req/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, ${Math.round(m.cpuUsPerCall)} us CPU/call${m.signedInline ? `, ${m.signedInline} signed inline` : ''}`);
        }
      }
      const out: Partial<Record<HttpTargetName, HttpTargetResult>> = {};
      for (const [r, list] of rounds) out[r.target] = summarize(r.target, list);
      return out;
    };

    const running: Running[] = [];
    for (const target of HTTP_TARGETS.filter((t) => wanted.has(t))) running.push(await startTarget(target));
    const http: LoadShapeResult[] = [];
    if (running.length > 0) {
      for (const connections of options.connections) {
        const shape = `closed-${connections}` as const;
        http.push({ shape, connections, targets: await measure(shape, running, connections) });
      }
      const best = Math.max(0, ...http.map((h) => h.targets.pipeline?.rps ?? 0));
      if (options.openFraction > 0 && best > 0) {
        const rate = Math.max(1, Math.round(best * options.openFraction));
        // Bare, the pipeline and the fair sidecar at the same offered rate: the added latency is over bare. The
        // multi-process pipeline is a throughput measure (its loop delay is not read: no IPC with serve).
        const open = running.filter((r) => r.target !== 'sidecar' && r.target !== 'workers');
        http.push({ shape: 'open', connections: OPEN_CONNECTIONS, rate, targets: await measure(`open ${rate}/s`, open, OPEN_CONNECTIONS, rate) });
      }
    }
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    opa = undefined;
    redis = undefined;

    let body: BodySizeResult[] | undefined;
    if (wanted.has('body')) {
      body = [];
      for (const bytes of BODY_SIZES) {
        const text = bodyOfSize(bytes);
        const targets = (['bare', 'pipeline'] as const).filter((t) => wanted.has(t));
        const started: Running[] = [];
        for (const t of targets) started.push(await startTarget(t, text));
        const result = await measure(`body ${bytes} B`, started, options.connections[0] ?? 10);
        body.push({ bytes, bare: result.bare, pipeline: result.pipeline });
        for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
      }
    }

    // Last, with the load targets stopped: one request at a time, so the gateway's loop delay is that request's.
    const hostile = wanted.has('hostile') ? await benchHostile(workspace, { search: options.hostileSearch }, log) : undefined;

    // Last of the default parts: a million calls take 15-20 minutes here.
    // The soak runs last, after 20-30 minutes of measurements: when it stops on a refused call, those are kept (the
    // run still fails, main.ts).
    let soakFailed: string | undefined;
    const soak = wanted.has('soak')
      ? await runSoak(workspace, { calls: options.soakCalls, connections: options.connections[0] ?? 10 }, log).catch((error: unknown) => {
          soakFailed = error instanceof Error ? error.message : String(error);
          log(`soak failed: ${soakFailed}`);
          return undefined;
        })
      : undefined;
    if (soak) log(`soak: RSS ${Math.round(soak.rssAfterWarmupKiB / 1024)} MiB after warm-up, ${Math.round(soak.rssEndKiB / 1024)} MiB at the end; slope ${soak.slopeKiBPer100k.toFixed(0)} KiB per 100k calls, live memory ${soak.liveSlopeKiBPer100k.toFixed(0)} KiB per 100k`);

    const profile = wanted.has('profile') ? await runProfile(workspace, { profileDir: join(options.outDir, 'cpu-profiles'), durationS: options.durationS, warmupS: options.warmupS, connections: options.connections[0] ?? 10 }, log) : undefined;

    const cpu = cpus();
    const { opa: _opa, ...recorded } = options;
    const floor = floorOf(http, micro, wasm, crypto);
    return {
      startedAt,
      machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', node: process.version, opa: opaBin ? opaVersion(opaBin) : null },
      options: recorded,
      http,
      floor,
      wasm,
      micro,
      crypto,
      dataSize,
      body,
      hostile,
      soak,
      ...(soakFailed === undefined ? {} : { soakFailed }),
      profile,
      checks: checkTargets(http, wasm, hostile, floor, soak, cpu.length),
    };
  } finally {
    // Stop in reverse order: the sidecar apps before their OPA.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    workspace.remove();
    process.removeListener('exit', removeOnExit);
  }
}

/**
 * Whether an open-loop round may end with requests that timed out (10 s) or lost their connection: only when the
 * target was offered more than its best closed-loop rate, so it cannot keep up by construction (run O: the fair
 * sidecar at 675 req/s against its 343, p50 4.3 s, three requests past 10 s). Those requests are counted in the
 * report, not measured; anything but an allowed answer still stops the run, and so does any error of a target
 * offered a rate it can serve.
 */
export function overloaded(rate: number | undefined, bestClosedRps: number | undefined): boolean {
  return rate !== undefined && bestClosedRps !== undefined && bestClosedRps < rate;
}

function summarize(target: HttpTargetName, rounds: readonly LoadRound[]): HttpTargetResult {
  const opa = rounds.map((x) => x.opaCpuUsPerCall).filter((x): x is number => x !== undefined);
  const redis = rounds.map((x) => x.redisCpuUsPerCall).filter((x): x is number => x !== undefined);
  return {
    target,
    rounds,
    rps: median(rounds.map((x) => x.rps)),
    p50Ms: median(rounds.map((x) => x.p50Ms)),
    p99Ms: median(rounds.map((x) => x.p99Ms)),
    p999Ms: median(rounds.map((x) => x.p999Ms)),
    cpuUsPerCall: median(rounds.map((x) => x.cpuUsPerCall)),
    machineBusy: median(rounds.map((x) => x.machineBusy)),
    loadCpuUsPerCall: median(rounds.map((x) => x.loadCpuUsPerCall)),
    loopMaxMs: median(rounds.map((x) => x.loopMaxMs)),
    loopP99Ms: median(rounds.map((x) => x.loopP99Ms)),
    ...(opa.length ? { opaCpuUsPerCall: median(opa) } : {}),
    ...(redis.length ? { redisCpuUsPerCall: median(redis) } : {}),
  };
}

/**
 * The floor of one allowed call: one Ed25519 verify, one evaluation of the bench call's input and bare Express's
 * CPU per request, against the pipeline's CPU per call in the closed-loop shape with the fewest connections; with
 * the durable write alone's CPU in that shape when it was measured, and what recording the call's audit events costs at best
 * (the multiple's own floor, checkTargets).
 */
export function floorOf(http: readonly LoadShapeResult[], micro: BenchResults['micro'], wasm: BenchResults['wasm'], crypto?: BenchResults['crypto']): Floor | undefined {
  const shape = http.find((h) => h.shape.startsWith('closed-') && h.targets.bare && h.targets.pipeline);
  const verify = micro?.find((m) => m.name.startsWith('Ed25519 verify'));
  if (!shape || !verify || !wasm) return undefined;
  const bareCpuUs = shape.targets.bare!.cpuUsPerCall;
  const totalUs = verify.p50Us + wasm.benchInputP50Us + bareCpuUs;
  const pipelineCpuUs = shape.targets.pipeline!.cpuUsPerCall;
  const durable = shape.targets.durable;
  const events = auditEventsUs(crypto);
  const decisionEvent = decisionEventUs(crypto);
  return {
    verifyUs: verify.p50Us, evaluateUs: wasm.benchInputP50Us, bareCpuUs, totalUs, pipelineCpuUs, multiple: pipelineCpuUs / totalUs,
    ...(durable ? { durableCpuUs: durable.cpuUsPerCall } : {}),
    ...(events === undefined ? {} : { auditEventsUs: events }),
    ...(decisionEvent === undefined ? {} : { decisionEventUs: decisionEvent }),
  };
}

/** The bench e-mail with its text padded so the whole JSON body is `bytes` long (plain words: an allowed call). */
export function bodyOfSize(bytes: number): string {
  const base = JSON.stringify({ ...BENCH_ARGS, body: '' });
  const room = Math.max(0, bytes - Buffer.byteLength(base));
  const text = 'receipts attached for the month '.repeat(Math.ceil(room / 32)).slice(0, room);
  return JSON.stringify({ ...BENCH_ARGS, body: text });
}

const noHeaders = () => ({});

/** One request before any load: a clear error now instead of minutes of refused calls. */
async function preflight(target: HttpTargetName, url: string, signed: SignedRequests | undefined, body: string): Promise<void> {
  signed?.refill(1);
  const headers = { 'content-type': 'application/json', ...(signed?.next() ?? {}) };
  const res = await fetch(`${url}${BENCH_PATH}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new BenchError(`${target}: the bench call answered ${res.status}, not 200: ${text.slice(0, 500)}`);
}

