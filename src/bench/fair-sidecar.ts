import { parseDecision, PolicyEngine, type Decision, type PolicyInput } from '../policy/index.js';
import { UnavailableError } from '../errors.js';
import { opaClient } from './opa-client.js';

/**
 * The fair sidecar: toolgate's own pipeline (verification, limits, audit record, spans) with only the decision
 * asked of `opa run --server` over REST. Every PolicyEngine this process loads from now on answers `decide()`
 * through OPA, validated by the same decision contract; its WASM is still loaded (the gateway reads the bundle's
 * revision and timezone from it) but never evaluated, and no evaluator threads are started.
 *
 * This replaces a static method in the bench's server child only (one server per process, see server.ts):
 * ToolgateOptions has no way to hand the gateway a PolicyEngine-compatible object yet.
 */
export function decideThroughOpa(opaUrl: string): { close(): void } {
  const opa = opaClient(opaUrl);
  const load = PolicyEngine.load.bind(PolicyEngine);
  PolicyEngine.load = async (bundle, name, options = {}) => {
    const engine = await load(bundle, name, { ...options, workers: 0 });
    const decide = async (input: PolicyInput): Promise<Decision> => {
      const result = await opa.decide(input);
      if (result === undefined) throw new UnavailableError('policy_undefined', 'OPA returned no decision for this input: check the Rego the sidecar serves.');
      return parseDecision(result);
    };
    Object.defineProperty(engine, 'decide', { value: decide });
    return engine;
  };
  return { close: () => opa.close() };
}
