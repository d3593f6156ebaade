/** The benchmark's options and results: one type each, shared by the CLI, the report and the smoke test. */

/** What `make bench` measures (DESIGN.md, Quality bars). */
export type TargetName = 'bare' | 'pipeline' | 'sidecar' | 'wasm';

export const TARGET_NAMES: readonly TargetName[] = ['bare', 'pipeline', 'sidecar', 'wasm'];

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
  readonly target: Exclude<TargetName, 'wasm'>;
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

export interface BenchResults {
  readonly startedAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly opa: string | null };
  readonly options: Omit<BenchOptions, 'opa'>;
  readonly http: Partial<Record<Exclude<TargetName, 'wasm'>, HttpTargetResult>>;
  readonly wasm: WasmResult | undefined;
  readonly checks: readonly TargetCheck[];
}
