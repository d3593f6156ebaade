/** The benchmark's options and results: one type each, shared by the CLI, the report and the smoke test. */


/** What `make bench` measures (DESIGN.md, Quality bars; issue 8 for `hostile`, issue 11 for the rest). */
export type TargetName = 'bare' | 'durable' | 'pipeline' | 'workers' | 'fair' | 'sidecar' | 'wasm' | 'micro' | 'body' | 'hostile' | 'soak' | 'profile';

/** What a run measures when no targets are named: everything but the CPU profile (the soak, 1,000,000 calls, takes 15-20 minutes of it). */
export const TARGET_NAMES: readonly TargetName[] = ['bare', 'durable', 'pipeline', 'workers', 'fair', 'sidecar', 'wasm', 'micro', 'body', 'hostile', 'soak'];

/** Every target `--only` accepts: the CPU profile only runs when named. */
export const ALL_TARGETS: readonly TargetName[] = [...TARGET_NAMES, 'profile'];

/**
 * The targets measured under HTTP load: bare Express (the ceiling), the durable write alone (bare Express that makes
 * a decision-sized audit line durable before the tool runs, as the gateway's audit file does: the latency floor of
 * any gateway that records before it executes), the pipeline, the pipeline as one process per core
 * (`serve --workers N`, state in Redis), the fair sidecar (the pipeline with the decision asked of OPA over REST)
 * and the cheapest sidecar (verification and input, then OPA; no audit, no spans).
 */
export type HttpTargetName = 'bare' | 'durable' | 'pipeline' | 'workers' | 'fair' | 'sidecar';

export const HTTP_TARGETS: readonly HttpTargetName[] = ['bare', 'durable', 'pipeline', 'workers', 'fair', 'sidecar'];

/** Closed loop at each of `connections`, and an open loop at a fraction of the pipeline's best rate. */
export type LoadShapeName = `closed-${number}` | 'open';

export interface BenchOptions {
  /** Measured rounds per target; the report takes the median. Default 3. */
  readonly rounds: number;
  /** Seconds of load per HTTP target per round. Default 5. */
  readonly durationS: number;
  /** Seconds of unmeasured load per HTTP target before the first round (JIT, connection pools). Default 2. */
  readonly warmupS: number;
  /** Closed-loop shapes: concurrent keep-alive connections of the load generator, one shape each. Default 10 and 100. */
  readonly connections: readonly number[];
  /** The open loop's rate as a fraction of the pipeline's best closed-loop rate of this run. Default 0.5. */
  readonly openFraction: number;
  /** Measured `PolicyEngine.evaluate` calls per round. Default 20000. */
  readonly wasmIterations: number;
  /** Unmeasured calls before the first round. Default 2000. */
  readonly wasmWarmup: number;
  /** Generated strings the hostile-body scenario's fast-check search times against the detectors. Default 300. */
  readonly hostileSearch: number;
  /** Which targets run. Default all; the ratios need bare, pipeline and sidecar together. */
  readonly targets: readonly TargetName[];
  /** The `make policy` bundle the bench copies (with a raised rate limit) for the gateway and the WASM engine. */
  readonly policyBundle: string;
  /** Rego sources the OPA sidecar serves. Default `rego`. */
  readonly regoDir: string;
  /** The opa binary; default: what scripts/opa.sh prints. */
  readonly opa: string | undefined;
  /** Where results.md, results.json and the run's scratch state go. Default `build/bench`. */
  readonly outDir: string;
  /** Allowed calls of the soak target (only run when named in `targets`). Default 1,000,000. */
  readonly soakCalls: number;
}

/** One measured round of load against one HTTP target. */
export interface LoadRound {
  /** 2xx responses per second over the round. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly durationS: number;
  /** Requests signed inside the load generator because the pre-signed pool ran out (0 when the pool sufficed). */
  readonly signedInline: number;
  /** The server process's CPU time (user + system, all threads, /proc/<pid>/stat) over the round per 2xx, in µs. */
  readonly cpuUsPerCall: number;
  /** The same for the OPA process the target asks (sidecars only). */
  readonly opaCpuUsPerCall?: number | undefined;
  /** The same for the Redis server the target's processes share (the multi-process pipeline only). */
  readonly redisCpuUsPerCall?: number | undefined;
  /** Share of all the machine's CPUs busy over the round (/proc/stat), the load generator's included: 1 is saturated. */
  readonly machineBusy: number;
  /** The load generator's CPU time (this process, user + system) over the round per 2xx, in µs: it shares the machine. */
  readonly loadCpuUsPerCall: number;
  /** The server's event loop over the round (perf_hooks.monitorEventLoopDelay, 1 ms resolution): the longest hold and the 99th percentile, ms. */
  readonly loopMaxMs: number;
  readonly loopP99Ms: number;
}

export interface HttpTargetResult {
  readonly target: HttpTargetName;
  readonly rounds: readonly LoadRound[];
  /** Medians over the rounds. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly cpuUsPerCall: number;
  readonly opaCpuUsPerCall?: number | undefined;
  readonly redisCpuUsPerCall?: number | undefined;
  readonly machineBusy: number;
  readonly loadCpuUsPerCall: number;
  readonly loopMaxMs: number;
  readonly loopP99Ms: number;
}

export interface LoadShapeResult {
  readonly shape: LoadShapeName;
  readonly connections: number;
  /** Open loop only: the requests per second offered to every target. */
  readonly rate?: number | undefined;
  readonly targets: Partial<Record<HttpTargetName, HttpTargetResult>>;
}

/** The physical floor of one allowed call, measured in the same run (µs). */
export interface Floor {
  /** One Ed25519 signature verification (the identity stage's primitive). */
  readonly verifyUs: number;
  /** One WASM evaluation of the HTTP bench call's input. */
  readonly evaluateUs: number;
  /** Bare Express's server CPU per request (closed loop, fewest connections). */
  readonly bareCpuUs: number;
  readonly totalUs: number;
  /** The pipeline's server CPU per allowed call in the same shape, and its multiple of the floor. */
  readonly pipelineCpuUs: number;
  readonly multiple: number;
  /**
   * The durable write alone's server CPU per request in the same shape (bare Express plus the audit file's durable
   * append): what recording a decision before the tool runs adds is its CPU over bare Express's.
   */
  readonly durableCpuUs?: number;
  /**
   * Recording an allowed call's two audit events as the gateway does (chain hash, one serialisation, a share of a
   * checkpoint signature each), the cheapest way measured in this run (crypto.ts): its decision, before the tool
   * runs, and its completion (the response's status) after.
   */
  readonly auditEventsUs?: number;
  /** The decision event's part of auditEventsUs: it is recorded before the tool runs, so every answer waits for it. */
  readonly decisionEventUs?: number;
}

/** One in-process measurement: median over rounds of each round's p50. */
export interface MicroResult {
  readonly name: string;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** Cost against body size: one closed-loop shape per size, bare and pipeline. */
export interface BodySizeResult {
  readonly bytes: number;
  readonly bare?: HttpTargetResult | undefined;
  readonly pipeline?: HttpTargetResult | undefined;
}

export interface WasmRound {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

export interface WasmResult {
  readonly target: 'wasm';
  readonly iterations: number;
  readonly rounds: readonly WasmRound[];
  readonly p50Us: number;
  readonly p99Us: number;
  /** The same engine on the HTTP bench call's input (no attachment), for the floor. */
  readonly benchInputP50Us: number;
  /** A one-rule policy returning the same decision for the same input: what OPA's WASM runtime and the engine cost alone. */
  readonly runtimeFloorP50Us?: number;
  /** Where the demo decision's time goes (src/policy/profile.ts): the largest parts and the kinds' shares. */
  readonly profile?: {
    readonly cpuUsPerEvaluation: number;
    readonly parts: readonly { readonly name: string; readonly kind: 'rule' | 'runtime' | 'outside' | 'unattributed'; readonly share: number; readonly usPerEvaluation: number }[];
    readonly totals: Readonly<Record<'rule' | 'runtime' | 'outside' | 'unattributed', number>>;
  };
}

/** A DESIGN.md target checked against the measurements of the same run. */
export interface TargetCheck {
  readonly name: string;
  readonly measured: number;
  readonly required: number;
  /** `min`: measured must be at least `required`; `max`: at most. */
  readonly kind: 'min' | 'max';
  readonly unit: string;
  readonly met: boolean;
  /**
   * What this machine allows at best, measured in the same run, where it is known (the least for a `max` target, its
   * floor; the most for a `min` target, its ceiling): a missed target whose bound is already past `required` is out
   * of reach here whatever the gateway does.
   */
  readonly floor?: { readonly value: number; readonly basis: string };
}

/** One hostile body sent through the real gateway (src/bench/hostile.ts). */
export interface HostileCase {
  readonly name: string;
  readonly origin: 'fixed' | 'search';
  /** The request body's size in bytes (at most the gateway's 1 MiB body limit). */
  readonly bodyBytes: number;
  /** The gateway's answer (200 allowed, 403 refused by policy, ...: any decided answer counts). */
  readonly status: number;
  /** Round trip seen by the client. */
  readonly responseMs: number;
  /** The gateway process's event-loop delay while it handled this one request. */
  readonly loopMaxMs: number;
  readonly loopP99Ms: number;
  /** CPU time of `detect` on the same string in the bench process: the detectors' share. */
  readonly detectMs: number;
}

export interface HostileResult {
  readonly cases: readonly HostileCase[];
  /** Generated strings the search timed, and how long it took. */
  readonly searched: number;
  /** fast-check's seed for the search (a new one each run). */
  readonly seed: number;
  readonly searchMs: number;
  /** The worst `loopMaxMs` over the cases. */
  readonly maxLoopDelayMs: number;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly opa: string | null };
  readonly options: Omit<BenchOptions, 'opa'>;
  readonly http: readonly LoadShapeResult[];
  readonly floor?: Floor | undefined;
  readonly wasm: WasmResult | undefined;
  /** Stage micro-benchmarks (in the bench process) and WASM cost against policy data size. */
  readonly micro?: readonly MicroResult[] | undefined;
  /** Ed25519 and audit-record CPU per operation (crypto.ts). */
  readonly crypto?: readonly { readonly name: string; readonly us: number }[] | undefined;
  readonly dataSize?: readonly (MicroResult & { readonly entries: number })[] | undefined;
  readonly body?: readonly BodySizeResult[] | undefined;
  readonly hostile?: HostileResult | undefined;
  readonly soak?: SoakResult | undefined;
  /**
   * Why the soak stopped, when it did (a refused or failed call: the bench drives allowed calls only). The run's other
   * results are kept and written, but the run fails and the README is left as it was (main.ts).
   */
  readonly soakFailed?: string | undefined;
  /** Where the pipeline's CPU goes per allowed call (only when named: profile-run.ts). */
  readonly profile?: ProfileResult | undefined;
  readonly checks: readonly TargetCheck[];
}

/** The pipeline server's RSS over a long run of allowed calls (soak.ts). */
export interface SoakResult {
  readonly calls: number;
  readonly seconds: number;
  /** Calls before the first sample the slope uses. */
  readonly warmupCalls: number;
  readonly rssStartKiB: number;
  readonly rssAfterWarmupKiB: number;
  readonly rssEndKiB: number;
  readonly rssMaxKiB: number;
  /** Least-squares slope of RSS over calls after the warm-up, KiB per 100,000 calls. */
  readonly slopeKiBPer100k: number;
  /** The same over the first and the second half of those samples (soak.ts halfSlopes): a trend shows in both. */
  readonly halfSlopesKiBPer100k?: readonly [number, number];
  /** Least-squares slope of live memory (heap in use + external, after a full collection) over calls after the warm-up, KiB per 100,000 calls. */
  readonly liveSlopeKiBPer100k: number;
  /** [calls so far, RSS KiB] after each chunk. */
  readonly samples: readonly (readonly [number, number])[];
  /** Live memory every 100,000 calls and at the end. */
  readonly live: readonly LiveSample[];
}

/** The server process's memory (process.memoryUsage), in KiB; after a full garbage collection when asked for one. */
export interface MemoryReading {
  readonly rssKiB: number;
  readonly heapUsedKiB: number;
  /** The JavaScript heap V8 holds from the system (used or not). */
  readonly heapTotalKiB: number;
  /** Memory of C++ objects bound to JavaScript ones, ArrayBuffers included (WASM memories are ArrayBuffers too). */
  readonly externalKiB: number;
  /**
   * The in-memory replay store's table (part of externalKiB), as the gateway's /readyz reports it: it doubles as one
   * signature lifetime's nonces grow, a step in RSS that is a level, not a leak. Absent for servers without one.
   */
  readonly replayKiB?: number;
}

/** The server's memory right after a full garbage collection it was asked for, and how many calls it had taken. */
export interface LiveSample extends MemoryReading {
  readonly calls: number;
}

/** One row of a profile table: where CPU went, in µs per allowed call and as a share of the busy time. */
export interface ProfileRow {
  readonly name: string;
  readonly usPerCall: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly calls: number;
  /** Busy CPU per call over all threads, in µs: what each table's rows add up to. */
  readonly busyUsPerCall: number;
  /** Per thread: the gateway's main thread and the evaluator threads. */
  readonly threads: readonly ProfileRow[];
  /** Per part of the pipeline: the innermost frame of toolgate's own code on the stack, by its folder. */
  readonly parts: readonly ProfileRow[];
  /** Per function of ours (library and Node calls count for their caller), the top 25. */
  readonly functions: readonly ProfileRow[];
}

export interface ProfileResult extends ProfileSummary {
  /** The unprofiled server's CPU per call from /proc, and its rate. */
  readonly cpuUsPerCall: number;
  readonly rps: number;
  /** The profiled server's CPU per call from /proc (the profiler's own thread included). */
  readonly profiledCpuUsPerCall: number;
  /**
   * The unprofiled server's CPU per call by kind of thread from /proc/<pid>/task: the kernel's count, which a
   * sampling profile cannot give on a loaded machine.
   */
  readonly threadCpu: readonly { readonly name: string; readonly usPerCall: number; readonly sysUsPerCall: number }[];
}
