import type { Counter } from '@opentelemetry/api';
import { ConfigError, ToolgateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { bundleSettings, parseBundle, type PolicyBundle } from './bundle.js';
import { PolicyEngine } from './engine.js';
import { Poller, type PollingOptions } from './poller.js';
import type { EvaluatorLoad } from './pool.js';
import type { BundleVerification } from './signature.js';
import type { BundleSource } from './source.js';
import type { PolicyEngineOptions, PolicyInput } from './types.js';

export interface ActivePolicyOptions {
  readonly source: BundleSource;
  /** Signed bundles only, verified with this key. */
  readonly verification?: BundleVerification;
  readonly name: string;
  readonly engine: PolicyEngineOptions;
  /** Poll the source for new revisions; undefined loads once. */
  readonly polling?: PollingOptions;
  readonly logger: Logger;
  /** Which policy this is, in the metric, logs and status: `active` (default), `shadow` or `canary`. */
  readonly role?: 'active' | 'shadow' | 'canary';
  /** `toolgate.policy.activations`, by role, result (activated, refused) and reason. */
  readonly activations?: Counter;
}

/** What /readyz shows about the policy lifecycle. */
export interface PolicyStatus {
  readonly role: 'active' | 'shadow' | 'canary';
  readonly revision: string;
  readonly source: string;
  readonly activatedAt: string;
  readonly signedBy: string | null;
  /** The last bundle refused (bad signature, failed check, download error) since the active one was activated. */
  readonly lastError: { readonly reason: string; readonly message: string; readonly at: string } | null;
  /** Its evaluator threads now: how many, how many are evaluating, how many calls wait for one (null: no threads). */
  readonly evaluators: EvaluatorLoad | null;
}

/** A lease on the revision that decides one call: its engine stays open until every lease is released. */
export interface PolicyLease {
  readonly engine: PolicyEngine;
  release(): void;
}

interface Revision {
  readonly engine: PolicyEngine;
  /** What the revision was loaded from: promoting a candidate activates the same bundle on the active policy. */
  readonly bundle: PolicyBundle;
  readonly timezone: string | undefined;
  readonly activatedAt: string;
  readonly signedBy: string | null;
  /** `toolgate.rollout.canary_fraction` from the revision's data, when it sets one (canary.ts). */
  readonly rollout: number | undefined;
  inflight: number;
  retired: boolean;
}

/**
 * A decision the demo policy (any total policy) must make without failing: the smoke check a new revision passes
 * before it may decide real calls. Its outcome does not matter; that it is a well-formed decision does.
 */
const SMOKE_INPUT: PolicyInput = {
  request: { method: 'POST', path: '/tools/toolgate.smoke', host: 'localhost', body_sha256: '', content_length: 2 },
  agent: { verified: false, scheme: 'none', id: null, key_id: null, thumbprint: null, signature_agent: null, labels: {} },
  tool: { name: 'toolgate.smoke', protocol: 'http' },
  args: {},
  resources: { attachments: [] },
  findings: { secrets: [], pii: [] },
  context: { now: '1970-01-01T00:00:00.000Z', now_ms: 0, weekday: 4, hour: 0, minute: 0, timezone: 'UTC', environment: 'smoke', gateway_id: 'smoke' },
  approval: null,
  break_glass: null,
};

/**
 * The policy the gateway decides with, replaceable while it runs. A new revision is verified, loaded, and
 * checked (entrypoint present, a smoke decision well-formed) before one assignment makes it active, so every
 * call is decided by exactly one revision — the one it leased. The old revision's evaluator threads close once
 * the calls that leased it are decided. A bad bundle leaves the active revision in place and is reported.
 */
export class ActivePolicy {
  readonly #options: ActivePolicyOptions;
  #current: Revision;
  readonly #retired = new Set<Revision>();
  #lastError: PolicyStatus['lastError'] = null;
  #poller: Poller | undefined;
  #activating: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(options: ActivePolicyOptions, first: Revision) {
    this.#options = options;
    this.#current = first;
  }

  /** Loads the first revision (a failure here fails the start) and starts polling when configured. */
  static async start(options: ActivePolicyOptions): Promise<ActivePolicy> {
    const snapshot = await options.source.fetch();
    if (!snapshot) throw new ConfigError('policy_bundle_unreadable', `The policy source ${options.source.where} returned no bundle at start.`);
    const bundle = await parseBundle(snapshot.files, options.source.where, { ...(options.verification ? { verification: options.verification } : {}), complete: snapshot.complete });
    const first = await ActivePolicy.#prepare(bundle, options);
    const active = new ActivePolicy(options, first);
    options.activations?.add(1, { role: options.role ?? 'active', result: 'activated', reason: 'start' });
    if (options.polling) {
      active.#poller = new Poller(() => active.poll(), options.polling);
      active.#poller.start();
    }
    return active;
  }

  /** The active revision's engine (for what is not a decision: labels, tools). */
  get engine(): PolicyEngine {
    return this.#current.engine;
  }

  /** The active revision's timezone from its data (`toolgate.config.timezone`), if it declares one. */
  get timezone(): string | undefined {
    return this.#current.timezone;
  }

  /** The active revision's `toolgate.rollout.canary_fraction` (0-1), when its data sets one. */
  get rollout(): number | undefined {
    return this.#current.rollout;
  }

  /**
   * Starts another policy the way this one was started (verification key, engine options, polling, logger, metric)
   * from another source: a shadow or canary candidate named while the gateway runs.
   */
  startSibling(source: BundleSource, role: 'shadow' | 'canary'): Promise<ActivePolicy> {
    return ActivePolicy.start({ ...this.#options, source, role });
  }

  /** The active revision's bundle (verified): what a promotion of this candidate activates on the active policy. */
  get bundle(): PolicyBundle {
    return this.#current.bundle;
  }

  /** Leases the active revision for one decision; release it once the decision is made. */
  acquire(): PolicyLease {
    const revision = this.#current;
    revision.inflight++;
    let released = false;
    return {
      engine: revision.engine,
      release: () => {
        if (released) return;
        released = true;
        revision.inflight--;
        if (revision.retired && revision.inflight === 0) this.#closeRetired(revision);
      },
    };
  }

  status(): PolicyStatus {
    const r = this.#current;
    return { role: this.#role, revision: r.engine.info.revision, source: this.#options.source.where, activatedAt: r.activatedAt, signedBy: r.signedBy, lastError: this.#lastError, evaluators: r.engine.load };
  }

  /** Fetches the source once and activates what changed; resolves false when a bundle was refused or unreachable. */
  async poll(): Promise<boolean> {
    try {
      const snapshot = await this.#options.source.fetch();
      if (!snapshot) return true;
      const bundle = await parseBundle(snapshot.files, this.#options.source.where, { ...(this.#options.verification ? { verification: this.#options.verification } : {}), complete: snapshot.complete });
      await this.activate(bundle);
      return true;
    } catch (error) {
      this.#refused(error);
      return false;
    }
  }

  /** Polls now, after any poll in progress (tests, an operator's reload); a no-op without polling. */
  async pollNow(): Promise<void> {
    if (this.#poller) await this.#poller.pollNow();
    else await this.poll();
  }

  /**
   * Checks a bundle and makes it the active revision. Throws (coded) when it fails its checks; the active revision
   * stays then. Activations run one at a time.
   */
  async activate(bundle: PolicyBundle, reason: 'new_revision' | 'promoted' = 'new_revision'): Promise<void> {
    const run = this.#activating.then(async () => {
      if (this.#closed) throw new ConfigError('policy_closed', 'The gateway is closing; the bundle was not activated.');
      if (bundle.sha256 === this.#current.engine.info.sha256 && (bundle.manifest.revision || '') === (this.#current.engine.info.revision || '')) return;
      const next = await ActivePolicy.#prepare(bundle, this.#options);
      const old = this.#current;
      this.#current = next; // the swap: calls leasing from here on are decided by `next`
      this.#lastError = null;
      old.retired = true;
      this.#retired.add(old);
      if (old.inflight === 0) this.#closeRetired(old);
      this.#options.activations?.add(1, { role: this.#role, result: 'activated', reason });
      this.#options.logger.warn('policy revision activated', { role: this.#role, reason, revision: next.engine.info.revision, previous: old.engine.info.revision, source: this.#options.source.where });
    });
    this.#activating = run.catch(() => undefined);
    await run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#poller?.stop();
    await this.#activating;
    await Promise.all([...(this.#current.retired ? [] : [this.#current]), ...this.#retired].map((r) => r.engine.close()));
  }

  /**
   * Stops polling and closes every revision once the calls that leased it are decided: for a candidate dropped or
   * replaced while the gateway runs, whose in-flight calls must still get their decision (close() would cut them).
   */
  async retire(): Promise<void> {
    this.#closed = true;
    await this.#poller?.stop();
    await this.#activating;
    const last = this.#current;
    if (last.retired) return;
    last.retired = true;
    this.#retired.add(last);
    if (last.inflight === 0) this.#closeRetired(last);
  }

  static async #prepare(bundle: PolicyBundle, options: ActivePolicyOptions): Promise<Revision> {
    const engine = await PolicyEngine.load(bundle, options.name, options.engine);
    try {
      await engine.decide(SMOKE_INPUT);
    } catch (cause) {
      await engine.close();
      const why = cause instanceof ToolgateError ? `${cause.reason}: ${cause.message}` : String(cause);
      throw new ConfigError('policy_smoke_failed', `Revision ${engine.info.revision} did not make a well-formed decision for a smoke input (${why}); it was not activated. Check it with opa test and opa eval before publishing.`, { cause });
    }
    if (!engine.filtersToolLists) {
      options.logger.warn('the policy bundle has no toolgate/visible entrypoint: MCP tool lists pass unfiltered (every call is still decided); build it with scripts/policy.sh', { role: options.role ?? 'active', revision: engine.info.revision });
    }
    return { engine, bundle, ...bundleSettings(bundle.data), activatedAt: new Date().toISOString(), signedBy: bundle.signedBy ?? null, inflight: 0, retired: false };
  }

  #closeRetired(revision: Revision): void {
    this.#retired.delete(revision);
    revision.engine.close().catch((error: unknown) => this.#options.logger.error('closing a retired policy revision failed', { revision: revision.engine.info.revision, error: String(error) }));
  }

  get #role(): 'active' | 'shadow' | 'canary' {
    return this.#options.role ?? 'active';
  }

  #refused(error: unknown): void {
    const reason = error instanceof ToolgateError ? error.reason : 'policy_activation_failed';
    const message = error instanceof Error ? error.message : String(error);
    this.#lastError = { reason, message, at: new Date().toISOString() };
    this.#options.activations?.add(1, { role: this.#role, result: 'refused', reason });
    this.#options.logger.error('policy bundle refused; the running revision stays', { role: this.#role, reason, message, revision: this.#current.engine.info.revision, source: this.#options.source.where });
  }
}
