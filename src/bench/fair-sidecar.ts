import type { PolicyInput } from '../policy/index.js';
import { opaClient } from './opa-client.js';

/**
 * The fair sidecar: toolgate's own pipeline (verification, limits, audit record, spans) with only the decision
 * asked of `opa run --server` over REST, through the gateway's `policy.decisionPoint` option: the answer passes the
 * same decision contract; the bundle is loaded for its revision, never evaluated, and no evaluator threads start.
 */
export function opaDecisionPoint(opaUrl: string): { decide: (input: PolicyInput) => Promise<unknown>; close(): void } {
  const opa = opaClient(opaUrl);
  return { decide: (input) => opa.decide(input), close: () => opa.close() };
}
