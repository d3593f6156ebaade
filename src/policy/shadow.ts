import { ToolgateError } from '../errors.js';
import type { ActivePolicy } from './active.js';
import type { Decision, PolicyInput, ShadowVerdict } from './types.js';

/** A candidate evaluated beside the active policy, for a sampled fraction of decisions, never enforced. */
export interface ShadowPolicy {
  readonly policy: ActivePolicy;
  /** Share of decisions the candidate also evaluates, 0-1. */
  readonly fraction: number;
}

/**
 * Starts the candidate's evaluation of `input` (or resolves undefined when this decision is not sampled). It never
 * rejects: a candidate that cannot decide gives an `error` verdict, so shadowing can never change a call.
 */
export function startShadow(shadow: ShadowPolicy | undefined, input: PolicyInput, random: () => number = Math.random): Promise<{ readonly revision: string; readonly decision?: Decision; readonly error?: string }> | undefined {
  if (!shadow || shadow.fraction <= 0 || (shadow.fraction < 1 && random() >= shadow.fraction)) return undefined;
  const lease = shadow.policy.acquire();
  const revision = lease.engine.info.revision;
  return lease.engine.decide(input).then(
    (decision) => ({ revision, decision }),
    (error: unknown) => ({ revision, error: error instanceof ToolgateError ? error.reason : 'policy_evaluation_failed' }),
  ).finally(() => lease.release());
}

/** The candidate's verdict next to the enforced decision. */
export function shadowVerdict(enforced: Decision, shadow: { readonly revision: string; readonly decision?: Decision; readonly error?: string }): ShadowVerdict {
  if (!shadow.decision) return { revision: shadow.revision, outcome: 'error', reasons: [shadow.error ?? 'policy_evaluation_failed'], agrees: false };
  const reasons = shadow.decision.reasons.map((r) => r.code);
  const mine = new Set(enforced.reasons.map((r) => r.code));
  const theirs = new Set(reasons);
  const agrees = shadow.decision.outcome === enforced.outcome && theirs.size === mine.size && [...theirs].every((c) => mine.has(c));
  return { revision: shadow.revision, outcome: shadow.decision.outcome, reasons, agrees };
}
