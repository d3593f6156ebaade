import { createHash } from 'node:crypto';
import type { ActivePolicy } from './active.js';

/** A candidate enforced for a share of agents, chosen by a hash of the agent id (canary). */
export interface CanaryPolicy {
  readonly policy: ActivePolicy;
  /** Share of agents the candidate decides for, 0-1, unless the candidate's data sets `toolgate.rollout.canary_fraction`. */
  readonly fraction: number;
}

/**
 * Where an agent falls in [0, 1): the first 48 bits of SHA-256 over its id. Deterministic across gateways and
 * restarts, so an agent always sees one policy; and raising the fraction only adds agents to the canary.
 */
export function canaryBucket(agentId: string): number {
  return createHash('sha256').update(agentId).digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The share of agents on the candidate now: the candidate's own data (`toolgate.rollout.canary_fraction`) wins
 * over the configured fraction, so publishing the candidate with 1 promotes it to every agent and with 0 rolls it
 * back, through the bundle server and without a restart.
 */
export function canaryFraction(canary: CanaryPolicy): number {
  return canary.policy.rollout ?? canary.fraction;
}

/** The policy that decides for this agent: the candidate when the agent's bucket is under the fraction. */
export function policyFor(active: ActivePolicy, canary: CanaryPolicy | undefined, agentId: string | null): { readonly policy: ActivePolicy; readonly canary: boolean } {
  if (!canary || agentId === null) return { policy: active, canary: false };
  return canaryBucket(agentId) < canaryFraction(canary) ? { policy: canary.policy, canary: true } : { policy: active, canary: false };
}
