/** The benchmark's options and results: one type each, shared by the CLI, the report and the smoke test. */

/** What `make bench` measures (DESIGN.md, Quality bars; issue 8 for `hostile`). */
export type TargetName = 'bare' | 'pipeline' | 'sidecar' | 'wasm' | 'hostile';

export const TARGET_NAMES: readonly TargetName[] = ['bare', 'pipeline', 'sidecar', 'wasm', 'hostile'];

/** The targets measured under HTTP load. */
export type HttpTargetName = Exclude<TargetName, 'wasm' | 'hostile'>;

export interface BenchOptions {
  /** Measured rounds per target; the report takes the median. Default 3. */
  readonly rounds: number;
  /** Seconds of load per HTTP target per round. Default 5. */
  readonly durationS: number;
  /** Seconds of unmeasured load per HTTP target before the first round (JIT, connection pools). Default 2. */
  readonly warmupS: number;
  /** Concurrent keep-alive connections of the load generator. Default 10 (autocannon's default). */
  readonly connections: number;
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
}

/** One measured round of load against one HTTP target. */
export interface LoadRound {
  /** 2xx responses per second over the round. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly durationS: number;
  /** Requests signed inside the load generator because the pre-signed pool ran out (0 when the pool sufficed). */
  readonly signedInline: number;
}

export interface HttpTargetResult {
  readonly target: HttpTargetName;
  readonly rounds: readonly LoadRound[];
  /** Medians over the rounds. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
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
  readonly http: Partial<Record<HttpTargetName, HttpTargetResult>>;
  readonly wasm: WasmResult | undefined;
  readonly hostile?: HostileResult | undefined;
  readonly checks: readonly TargetCheck[];
}
