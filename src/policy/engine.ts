import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { ConfigError, UnavailableError } from '../errors.js';
import { abiProblem, evaluateValue, type AbiPolicy } from './abi.js';
import type { PolicyBundle } from './bundle.js';
import { parseDecision } from './decision.js';
import { EvaluatorPool, type EvaluatorLoad } from './pool.js';
import type { Decision, PolicyEngineOptions, PolicyInfo, PolicyInput } from './types.js';
import type { EvaluatorProof } from './channel.js';
import type { CompiledPolicy } from './worker.js';

export const DECISION_ENTRYPOINT = 'toolgate/decision';
/** Which tools an agent sees in an MCP tools/list (rego/toolgate/visible.rego); optional in a bundle. */
export const VISIBLE_ENTRYPOINT = 'toolgate/visible';

/** 64 KiB pages: start at 2 MiB, never beyond 256 MiB, so a runaway policy cannot take the process down. */
const MEMORY = { initial: 32, maximum: 4096 } as const;

const DEFAULTS = { timeoutMs: 500, workers: 2 } as const;

/** The global WebAssembly API, which the project's libs (ES2023 and Node's, no DOM) do not declare. */
const compile = (bytes: Uint8Array): Promise<CompiledPolicy> =>
  (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<CompiledPolicy> } }).WebAssembly.compile(bytes);

/**
 * A loaded WASM policy: compiled and given its data once, evaluated per request.
 *
 * `decide` is the request path: it evaluates in worker threads (pool.ts) under a time budget, because opa-wasm runs
 * synchronously and cannot be interrupted, so an evaluation on the event loop freezes every other call and
 * /healthz for as long as it runs. `evaluate` and `evaluateRaw` run in this thread with no budget, for tools,
 * replays and benchmarks.
 */
export class PolicyEngine {
  readonly info: PolicyInfo;
  readonly #policy: AbiPolicy;
  readonly #entrypoint: number;
  readonly #visible: number | undefined;
  readonly #pool: EvaluatorPool | null;
  /**
   * Whether the bundle has the toolgate/visible entrypoint. Without it (a bundle built before the entrypoint
   * existed, or with only `-e toolgate/decision`) tool lists pass unfiltered: every call is still decided, so
   * showing a tool grants nothing, while hiding every tool would break every MCP client on a policy update.
   */
  readonly filtersToolLists: boolean;

  private constructor(policy: AbiPolicy, info: PolicyInfo, pool: EvaluatorPool | null) {
    this.#policy = policy;
    this.info = info;
    this.#entrypoint = policy.entrypoints[DECISION_ENTRYPOINT]!;
    this.#visible = policy.entrypoints[VISIBLE_ENTRYPOINT];
    this.#pool = pool;
    this.filtersToolLists = this.#visible !== undefined;
  }

  static async load(bundle: PolicyBundle, name = 'toolgate', options: Readonly<PolicyEngineOptions> = {}): Promise<PolicyEngine> {
    const { timeoutMs, workers } = resolveEngineOptions(options);
    let module: CompiledPolicy;
    let policy: AbiPolicy;
    const data = bundle.data.buffer.slice(bundle.data.byteOffset, bundle.data.byteOffset + bundle.data.byteLength) as ArrayBuffer;
    try {
      module = await compile(bundle.wasm);
      const loaded = await loadPolicy(module, { ...MEMORY });
      loaded.setData(data);
      policy = loaded as unknown as AbiPolicy;
      const problem = abiProblem(policy);
      if (problem) throw new Error(problem);
    } catch (cause) {
      throw new ConfigError('policy_load_failed', `The policy WASM could not be loaded (${describe(cause)}): rebuild it with make policy using the pinned opa.`, { cause });
    }
    const entrypoints = Object.keys((policy.entrypoints ?? {}) as Record<string, number>);
    if (!entrypoints.includes(DECISION_ENTRYPOINT)) {
      throw new ConfigError('policy_entrypoint_missing', `The policy bundle has entrypoints [${entrypoints.join(', ')}] but not ${DECISION_ENTRYPOINT}: build with \`opa build -t wasm -e ${DECISION_ENTRYPOINT}\`.`);
    }
    const pool = workers === 0 ? null : await EvaluatorPool.start({ module, data, entrypoint: DECISION_ENTRYPOINT, memory: MEMORY }, workers, timeoutMs);
    const revision = bundle.manifest.revision || `sha256:${bundle.sha256.slice(0, 12)}`;
    return new PolicyEngine(policy, { revision, sha256: bundle.sha256, bundleName: name }, pool);
  }

  /**
   * Decides a call in an evaluator thread. Fails closed (a coded UnavailableError, 503) when the evaluation runs
   * past its budget (`policy_timeout`), fails, or gives no or a malformed decision.
   */
  async decide(input: PolicyInput, proof?: EvaluatorProof, lane?: string): Promise<Decision> {
    if (!this.#pool) {
      if (proof) throw new Error('PolicyEngine.decide: a proof needs evaluator threads (check checksProofs first)');
      return this.evaluate(input);
    }
    // Serialised once here; the thread copies the UTF-8 straight into WASM memory (channel.ts, worker.ts).
    // Queued per agent (or the caller's `lane`), served in turn: one agent's slow evaluations cannot hold everyone
    // else's decisions.
    return toDecision(await this.#pool.run(JSON.stringify(input), lane ?? (typeof input.agent?.id === 'string' ? input.agent.id : ''), proof));
  }

  /** The evaluator threads' load (null when this engine evaluates on the event loop). */
  get load(): EvaluatorLoad | null {
    return this.#pool?.load ?? null;
  }

  /**
   * Whether `decide` can check an Ed25519 proof in the thread that evaluates, before it evaluates: rejects with
   * ProofFailedError (pool.ts) when the proof does not hold, and the input is never evaluated.
   */
  get checksProofs(): boolean {
    return this.#pool?.checksProofs ?? false;
  }

  /** Evaluates the decision in this thread, with no time budget. Undefined results, evaluation errors and malformed decisions fail closed. */
  evaluate(input: PolicyInput): Decision {
    let results: unknown;
    try {
      results = evaluateValue(this.#policy, this.#entrypoint, input);
    } catch (cause) {
      // opa-wasm throws strings, not Errors: wrap so callers always get a coded error.
      throw new UnavailableError('policy_evaluation_failed', `Policy evaluation failed (${describe(cause)}); nothing was executed. Check the policy with opa test and the gateway logs.`, { cause });
    }
    const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
    return toDecision(first?.result);
  }

  /**
   * Whether the agent in `input` may see the tool `input.tool.name` in a tools/list: only a result of exactly
   * `true` shows it. Evaluated in this thread with no time budget: the rule reads the agent's allowlist and
   * capabilities, never the arguments (there are none); measured 14-19 us per tool with the demo policy on a
   * shared 2-core machine (input serialisation included), so a list of tens of tools holds the event loop well
   * under a millisecond. Always true when the bundle lacks the entrypoint (filtersToolLists).
   * Throws a coded UnavailableError when the evaluation fails: the caller hides the tool.
   */
  visible(input: PolicyInput): boolean {
    if (this.#visible === undefined) return true;
    let results: unknown;
    try {
      results = evaluateValue(this.#policy, this.#visible, input);
    } catch (cause) {
      throw new UnavailableError('policy_evaluation_failed', `Evaluating ${VISIBLE_ENTRYPOINT} failed (${describe(cause)}); the tool is hidden from the list. Check the policy with opa test and the gateway logs.`, { cause });
    }
    const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
    return first?.result === true;
  }

  /** Raw evaluation for replay and parity checks (`toolgate policy eval`), in this thread. */
  evaluateRaw(input: unknown): unknown {
    const results = evaluateValue(this.#policy, this.#entrypoint, input) as { result?: unknown }[];
    return results[0]?.result;
  }

  /** Stops the evaluator threads; calls still waiting fail with `policy_unavailable`. */
  async close(): Promise<void> {
    await this.#pool?.close();
  }
}

function toDecision(result: unknown): Decision {
  if (result === undefined) {
    throw new UnavailableError('policy_undefined', 'The policy returned no decision for this input; nothing was executed. Make data.toolgate.decision total (defined for every input).');
  }
  return parseDecision(result);
}

function resolveEngineOptions(options: Readonly<PolicyEngineOptions>): Required<PolicyEngineOptions> {
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULTS)) throw new ConfigError('option_unknown', `Unknown policy engine option ${key}. Known options: timeoutMs, workers.`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const workers = options.workers ?? DEFAULTS.workers;
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new ConfigError('policy_options_invalid', `policy timeoutMs must be a number of milliseconds from 1 to 60000 (got ${String(timeoutMs)}); the default is ${DEFAULTS.timeoutMs}.`);
  }
  if (!Number.isInteger(workers) || workers < 0 || workers > 16) {
    throw new ConfigError('policy_options_invalid', `policy workers must be an integer from 0 to 16 (got ${String(workers)}); the default is ${DEFAULTS.workers}, and 0 evaluates on the event loop with no time budget.`);
  }
  return { timeoutMs, workers };
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause).slice(0, 200);
}
