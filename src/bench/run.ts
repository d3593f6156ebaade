import { cpus } from 'node:os';
import { startServerChild, type ServerChild, type ServerSpec } from './children.js';
import { runLoad } from './load.js';
import { opaVersion, resolveOpa, startOpa, type OpaSidecar } from './opa.js';
import { checkTargets } from './report.js';
import { SignedRequests } from './signed-requests.js';
import { median } from './stats.js';
import type { BenchOptions, BenchResults, HttpTargetName, HttpTargetResult, LoadRound } from './types.js';
import { benchHostile } from './hostile.js';
import { benchWasm } from './wasm.js';
import { BENCH_AGENT, BENCH_BODY, BENCH_PATH, prepareWorkspace } from './workspace.js';

type HttpTarget = HttpTargetName;

/** Progress lines (stderr in the CLI, nothing in tests). */
export type Log = (line: string) => void;

/** Before any measurement, a guess of the throughput to size the first pool of signatures. */
const FIRST_GUESS_RPS = 4000;

interface Running {
  readonly target: HttpTarget;
  readonly url: string;
  /** Present when the target verifies signatures (pipeline and sidecar). */
  readonly signed: SignedRequests | undefined;
  /** Fastest rate seen so far (req/s); sizes the next pool of signatures. */
  estimateRps: number | undefined;
  readonly rounds: LoadRound[];
}

export class BenchError extends Error {
  override readonly name = 'BenchError';
}

/**
 * Runs the benchmark: the WASM micro-benchmark first (in this process, nothing else running), then the HTTP
 * targets, each server in its own child process, warmed up, then measured round-robin (round r starts with a
 * different target) so drift on a shared machine spreads over all of them. Everything started is stopped and the
 * scratch directory removed, on success or failure. Throws on errors — a server that fails, a measured request
 * that is not the allowed 2xx — never on a missed target (see `checks`).
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
      wasm = await benchWasm({ bundleDir: workspace.bundleDir, iterations: options.wasmIterations, warmup: options.wasmWarmup, rounds: options.rounds });
      log(`wasm: p50 ${wasm.p50Us.toFixed(1)} us, p99 ${wasm.p99Us.toFixed(1)} us`);
    }

    const running: Running[] = [];
    for (const target of (['bare', 'pipeline', 'sidecar'] as const).filter((t) => wanted.has(t))) {
      let spec: ServerSpec;
      if (target === 'bare') spec = { kind: 'bare' };
      else if (target === 'pipeline') spec = { kind: 'pipeline', bundleDir: workspace.bundleDir, jwksFile: workspace.agents.jwksFile, stateDir: workspace.stateDir };
      else {
        opaBin ??= resolveOpa(options.opa);
        const opa: OpaSidecar = await startOpa(opaBin, workspace.opaPolicyDir);
        stops.push(() => opa.stop());
        log(`sidecar: opa (pid ${opa.pid}) at ${opa.url}`);
        spec = { kind: 'sidecar', opaUrl: opa.url, jwksFile: workspace.agents.jwksFile };
      }
      const child: ServerChild = await startServerChild(spec);
      stops.push(() => child.stop());
      log(`${target}: server (pid ${child.pid}) at ${child.url}`);
      const signed = target === 'bare' ? undefined : new SignedRequests(workspace.agents.keys[BENCH_AGENT], `${child.url}${BENCH_PATH}`, BENCH_BODY);
      await preflight(target, child.url, signed);
      running.push({ target, url: child.url, signed, estimateRps: undefined, rounds: [] });
    }

    const load = async (r: Running, durationS: number) => {
      // Twice the fastest rate seen so far: a warmed-up round outruns the warm-up, and a pool that runs dry
      // moves signing into the load generator mid-measurement (about 0.1-0.3 ms of CPU per request).
      r.signed?.refill((r.estimateRps ?? FIRST_GUESS_RPS) * durationS * 2 + 4 * options.connections);
      const out = await runLoad({ url: r.url, path: BENCH_PATH, body: BENCH_BODY, connections: options.connections, durationS, headers: r.signed?.next ?? noHeaders });
      if (out.non2xx > 0 || out.errors > 0 || out.ok === 0) {
        throw new BenchError(`${r.target}: ${out.ok} allowed responses, ${out.non2xx} others ${JSON.stringify(out.statuses)}, ${out.errors} socket errors/timeouts: the measured path must be the allowed call only`);
      }
      r.estimateRps = Math.max(r.estimateRps ?? 0, out.rps);
      return { ...out, signedInline: r.signed?.signedInline ?? 0 };
    };

    if (options.warmupS > 0) {
      for (const r of running) {
        const w = await load(r, options.warmupS);
        log(`${r.target}: warm-up ${Math.round(w.rps)} req/s`);
      }
    }
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < running.length; i++) {
        const r = running[(round + i) % running.length]!;
        const { statuses: _statuses, ...measured } = await load(r, options.durationS);
        r.rounds.push(measured);
        log(`${r.target}: round ${round + 1}/${options.rounds}: ${Math.round(measured.rps)} req/s, p50 ${measured.p50Ms.toFixed(2)} ms, p99 ${measured.p99Ms.toFixed(2)} ms${measured.signedInline ? `, ${measured.signedInline} signed inline` : ''}`);
      }
    }

    // Last, with the load targets idle: one request at a time, so the gateway's loop delay is that request's.
    const hostile = wanted.has('hostile') ? await benchHostile(workspace, { search: options.hostileSearch }, log) : undefined;

    const http: Partial<Record<HttpTarget, HttpTargetResult>> = {};
    for (const r of running) {
      http[r.target] = {
        target: r.target,
        rounds: r.rounds,
        rps: median(r.rounds.map((x) => x.rps)),
        p50Ms: median(r.rounds.map((x) => x.p50Ms)),
        p99Ms: median(r.rounds.map((x) => x.p99Ms)),
      };
    }
    const cpu = cpus();
    const { opa: _opa, ...recorded } = options;
    return {
      startedAt,
      machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', node: process.version, opa: opaBin ? opaVersion(opaBin) : null },
      options: recorded,
      http,
      wasm,
      hostile,
      checks: checkTargets(http, wasm, hostile),
    };
  } finally {
    // Stop in reverse order: the sidecar app before its OPA.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    workspace.remove();
    process.removeListener('exit', removeOnExit);
  }
}

const noHeaders = () => ({});

/** One request before any load: a clear error now instead of minutes of refused calls. */
async function preflight(target: HttpTarget, url: string, signed: SignedRequests | undefined): Promise<void> {
  const headers = { 'content-type': 'application/json', ...(signed?.next() ?? {}) };
  const res = await fetch(`${url}${BENCH_PATH}`, { method: 'POST', headers, body: BENCH_BODY, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (res.status !== 200) throw new BenchError(`${target}: the bench call answered ${res.status}, not 200: ${text.slice(0, 500)}`);
}
