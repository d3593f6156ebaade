import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ActivePolicy, PolicyStatus } from './active.js';
import { canaryFraction, type CanaryPolicy } from './canary.js';
import type { ShadowPolicy } from './shadow.js';

/** A candidate's status in the rollout: its lifecycle status and the share it covers now. */
export type CandidateStatus = PolicyStatus & { readonly fraction: number };

export interface RolloutStatus {
  readonly active: PolicyStatus;
  readonly shadow: CandidateStatus | null;
  /** `fraction` is the effective one: the candidate's data (`toolgate.rollout.canary_fraction`) wins over the set one. */
  readonly canary: CandidateStatus | null;
}

/**
 * Changes the policy rollout of a running gateway, without a restart: which candidate is shadowed or canaried and
 * for what share, promotion of a candidate to active, rollback. Changes live in memory: a restart reads the
 * configuration again (`toolgate serve` rereads it on SIGHUP).
 */
export interface PolicyControl {
  /**
   * Starts a canary from `bundle` (path or URL; verified, checked and polled like the active policy) for `fraction`
   * of agents, replacing any running canary once it loaded; without `bundle` (or with the running canary's own),
   * only the fraction changes. Rejects with a coded error when the bundle cannot be loaded: the rollout stays.
   */
  setCanary(change: { readonly bundle?: string; readonly fraction: number }): Promise<RolloutStatus>;
  /** The same for the shadow candidate (`fraction` of decisions, default 1); null stops shadowing. */
  setShadow(change: { readonly bundle?: string; readonly fraction?: number } | null): Promise<RolloutStatus>;
  /**
   * Activates the candidate's current revision as the active policy (a hot swap: in-flight calls finish on the old
   * one) and drops the candidate. The active source still governs: its next new revision replaces the promoted
   * one, so publish the promoted bundle there (or point the configuration at it) before the next restart.
   */
  promote(from?: 'canary' | 'shadow'): Promise<RolloutStatus>;
  /** Drops the canary: every agent is decided by the active policy again. */
  rollback(): Promise<RolloutStatus>;
  status(): RolloutStatus;
}

/** Starts a candidate policy (role shadow or canary) from a bundle path or URL, as the gateway starts its own. */
export type StartCandidate = (bundle: string, role: 'shadow' | 'canary') => Promise<ActivePolicy>;

interface Slot<T> {
  readonly candidate: T;
  /** The source's `where`, to tell a fraction change from a new bundle. */
  readonly where: string;
}

/**
 * The rollout's mutable state. Decisions read `shadow` and `canary` once per call (synchronously, with the lease),
 * so a change applies from the next call on and never splits one; a candidate replaced or dropped is retired: its
 * threads close once the calls that leased it are decided. Changes run one at a time.
 */
export class PolicyRollout implements PolicyControl {
  readonly #active: ActivePolicy;
  readonly #start: StartCandidate;
  readonly #where: (bundle: string) => string;
  readonly #logger: Logger;
  #shadow: Slot<ShadowPolicy> | undefined;
  #canary: Slot<CanaryPolicy> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** `where` maps a configured bundle to its source's `where` (how the running candidates are named). */
  constructor(active: ActivePolicy, initial: { readonly shadow?: ShadowPolicy; readonly canary?: CanaryPolicy }, start: StartCandidate, where: (bundle: string) => string, logger: Logger) {
    this.#active = active;
    this.#logger = logger;
    this.#start = start;
    this.#where = where;
    if (initial.shadow) this.#shadow = { candidate: initial.shadow, where: initial.shadow.policy.status().source };
    if (initial.canary) this.#canary = { candidate: initial.canary, where: initial.canary.policy.status().source };
  }

  get shadow(): ShadowPolicy | undefined {
    return this.#shadow?.candidate;
  }

  get canary(): CanaryPolicy | undefined {
    return this.#canary?.candidate;
  }

  setCanary(change: { readonly bundle?: string; readonly fraction: number }): Promise<RolloutStatus> {
    return this.#serial(async () => {
      const fraction = checkFraction(change?.fraction, 'canary', 'agents');
      const policy = await this.#candidate('canary', this.#canary, change.bundle);
      this.#swap('canary', { candidate: { policy: policy.policy, fraction }, where: policy.where });
    });
  }

  setShadow(change: { readonly bundle?: string; readonly fraction?: number } | null): Promise<RolloutStatus> {
    return this.#serial(async () => {
      if (change === null) return this.#swap('shadow', undefined);
      const fraction = checkFraction(change.fraction ?? 1, 'shadow', 'decisions');
      const policy = await this.#candidate('shadow', this.#shadow, change.bundle);
      this.#swap('shadow', { candidate: { policy: policy.policy, fraction }, where: policy.where });
    });
  }

  promote(from: 'canary' | 'shadow' = 'canary'): Promise<RolloutStatus> {
    return this.#serial(async () => {
      const slot = from === 'canary' ? this.#canary : this.#shadow;
      if (!slot) throw new ConfigError('policy_candidate_missing', `There is no ${from} candidate to promote: start one first (setCanary / setShadow, or the configuration's policy ${from} bundle).`);
      // Fails (coded) like any activation when the revision no longer passes the checks; the candidate stays then.
      await this.#active.activate(slot.candidate.policy.bundle, 'promoted');
      this.#swap(from, undefined);
    });
  }

  rollback(): Promise<RolloutStatus> {
    return this.#serial(async () => this.#swap('canary', undefined));
  }

  status(): RolloutStatus {
    const shadow = this.#shadow?.candidate;
    const canary = this.#canary?.candidate;
    return {
      active: this.#active.status(),
      shadow: shadow ? { ...shadow.policy.status(), fraction: shadow.fraction } : null,
      canary: canary ? { ...canary.policy.status(), fraction: canaryFraction(canary) } : null,
    };
  }

  /** Closes the candidates (the gateway is closing; the active policy is closed by its owner). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    await Promise.all([this.#shadow?.candidate.policy.close(), this.#canary?.candidate.policy.close()]);
  }

  /** The running candidate when `bundle` is omitted or names its source; else a new one, loaded and checked. */
  async #candidate(role: 'shadow' | 'canary', slot: Slot<ShadowPolicy | CanaryPolicy> | undefined, bundle: string | undefined): Promise<{ policy: ActivePolicy; where: string }> {
    if (bundle === undefined || (slot && this.#where(bundle) === slot.where)) {
      if (!slot) throw new ConfigError('policy_candidate_missing', `There is no ${role} candidate to change: give its bundle (a directory, bundle.tar.gz or bundle server URL).`);
      return { policy: slot.candidate.policy, where: slot.where };
    }
    if (typeof bundle !== 'string' || bundle === '') throw new ConfigError('policy_rollout_invalid', `The ${role} bundle must be a directory, bundle.tar.gz or bundle server URL (got ${JSON.stringify(bundle)}).`);
    const policy = await this.#start(bundle, role);
    return { policy, where: policy.status().source };
  }

  #swap(role: 'shadow', next: Slot<ShadowPolicy> | undefined): void;
  #swap(role: 'canary', next: Slot<CanaryPolicy> | undefined): void;
  #swap(role: 'shadow' | 'canary', next: Slot<ShadowPolicy> | Slot<CanaryPolicy> | undefined): void;
  #swap(role: 'shadow' | 'canary', next: Slot<ShadowPolicy> | Slot<CanaryPolicy> | undefined): void {
    const old = role === 'shadow' ? this.#shadow : this.#canary;
    if (role === 'shadow') this.#shadow = next as Slot<ShadowPolicy> | undefined;
    else this.#canary = next as Slot<CanaryPolicy> | undefined;
    // A fraction change keeps the same policy; a replaced or dropped one finishes its in-flight calls, then closes.
    if (old && old.candidate.policy !== next?.candidate.policy) {
      old.candidate.policy.retire().catch((error: unknown) => this.#logger.error('retiring a policy candidate failed', { role, source: old.where, error: String(error) }));
    }
    this.#logger.warn('policy rollout changed', { role, source: next?.where ?? null, fraction: next?.candidate.fraction ?? null, previous: old?.where ?? null });
  }

  #serial(change: () => Promise<void>): Promise<RolloutStatus> {
    const run = this.#queue.then(async () => {
      if (this.#closed) throw new ConfigError('policy_closed', 'The gateway is closing; the rollout was not changed.');
      await change();
      return this.status();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function checkFraction(value: unknown, role: 'shadow' | 'canary', share: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ConfigError('policy_rollout_invalid', `The ${role} fraction must be the share of ${share} from 0 to 1 (got ${String(value)}).`);
  }
  return value;
}

/**
 * The gateway's runtime as the decisions see it, with `shadow` and `canary` read from the rollout on each access
 * (the rest from the runtime itself).
 */
export function withRollout<R extends object>(runtime: R, rollout: PolicyRollout): R {
  return Object.create(runtime, {
    shadow: { get: () => rollout.shadow, enumerable: true },
    canary: { get: () => rollout.canary, enumerable: true },
  }) as R;
}
