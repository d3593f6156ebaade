import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { ConfigError, UnavailableError } from '../errors.js';
import type { PolicyBundle } from './bundle.js';
import { parseDecision } from './decision.js';
import type { Decision, PolicyInfo, PolicyInput } from './types.js';

export const DECISION_ENTRYPOINT = 'toolgate/decision';

/** 64 KiB pages: start at 2 MiB, never beyond 256 MiB, so a runaway policy cannot take the process down. */
const MEMORY = { initial: 32, maximum: 4096 };

/**
 * A loaded WASM policy: loaded and given its data once, evaluated per request. opa-wasm instances are not
 * re-entrant, but evaluation is synchronous, so one instance serves a Node process.
 */
export class PolicyEngine {
  readonly info: PolicyInfo;
  readonly #policy: LoadedPolicy;
  readonly #entrypoint: string;

  private constructor(policy: LoadedPolicy, info: PolicyInfo, entrypoint: string) {
    this.#policy = policy;
    this.info = info;
    this.#entrypoint = entrypoint;
  }

  static async load(bundle: PolicyBundle, name = 'toolgate'): Promise<PolicyEngine> {
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(bundle.wasm, MEMORY);
      policy.setData(bundle.data.buffer.slice(bundle.data.byteOffset, bundle.data.byteOffset + bundle.data.byteLength) as ArrayBuffer);
    } catch (cause) {
      throw new ConfigError('policy_load_failed', `The policy WASM could not be loaded (${describe(cause)}): rebuild it with make policy using the pinned opa.`, { cause });
    }
    const entrypoints = Object.keys((policy.entrypoints ?? {}) as Record<string, number>);
    if (!entrypoints.includes(DECISION_ENTRYPOINT)) {
      throw new ConfigError('policy_entrypoint_missing', `The policy bundle has entrypoints [${entrypoints.join(', ')}] but not ${DECISION_ENTRYPOINT}: build with \`opa build -t wasm -e ${DECISION_ENTRYPOINT}\`.`);
    }
    const revision = bundle.manifest.revision || `sha256:${bundle.sha256.slice(0, 12)}`;
    return new PolicyEngine(policy, { revision, sha256: bundle.sha256, bundleName: name }, DECISION_ENTRYPOINT);
  }

  /** Evaluates the decision. Undefined results, evaluation errors and malformed decisions fail closed. */
  evaluate(input: PolicyInput): Decision {
    let results: unknown;
    try {
      results = this.#policy.evaluate(input, this.#entrypoint);
    } catch (cause) {
      // opa-wasm throws strings, not Errors: wrap so callers always get a coded error.
      throw new UnavailableError('policy_evaluation_failed', `Policy evaluation failed (${describe(cause)}); nothing was executed. Check the policy with opa test and the gateway logs.`, { cause });
    }
    const first = Array.isArray(results) ? (results[0] as { result?: unknown } | undefined) : undefined;
    if (!first || first.result === undefined) {
      throw new UnavailableError('policy_undefined', 'The policy returned no decision for this input; nothing was executed. Make data.toolgate.decision total (defined for every input).');
    }
    return parseDecision(first.result);
  }

  /** Raw evaluation for replay and parity checks (`toolgate policy eval`). */
  evaluateRaw(input: unknown): unknown {
    const results = this.#policy.evaluate(input, this.#entrypoint) as { result?: unknown }[];
    return results[0]?.result;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return String(cause).slice(0, 200);
}
