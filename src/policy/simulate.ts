import { canonicalJson } from '../audit/canonical.js';
import type { AuditEvent } from '../audit/types.js';
import { ConfigError, ToolgateError } from '../errors.js';
import type { ChangeGroup, ReplayTally, SimulationOptions, Verdict } from './simulate-types.js';
import type { Decision } from './types.js';

const DEFAULTS = { examples: 3, maxGroups: 1000 } as const;
const MAX_REVISIONS = 20;
/** Sampling RSS costs a syscall: every 4096 events is about every 0.2 s at the replay's speed. */
const RSS_EVERY = 4096;

/** Evaluates one input with the candidate policy (PolicyEngine.evaluate, in this thread). */
export type Evaluate = (input: unknown) => Decision;

/**
 * Replays recorded decisions through a candidate policy one event at a time and keeps only counters, a bounded
 * number of change groups and a few example ids each: memory does not grow with the number of events, so a
 * simulation can stream a file or topic of any length.
 *
 * The recorded side is the policy's decision as the event's `result` holds it, not the gateway's final outcome: a
 * call the policy allowed and a rate limit then refused is an `allow` here, since that is what a candidate policy
 * can change. Events that recorded no decision (result null, e.g. policy_timeout) compare their `outcome`.
 */
export class Simulation {
  readonly clear: ReplayTally = tally();
  readonly masked: ReplayTally = tally();
  readonly skipped = { notDecisions: 0, noInput: 0, outsideWindow: 0 };
  readonly recordedRevisions = new Map<string, number>();
  events = 0;
  unreadable = 0;
  readonly rssStart: number;
  rssPeak: number;
  readonly #evaluate: Evaluate;
  readonly #examples: number;
  readonly #maxGroups: number;
  readonly #since: number;
  readonly #until: number;
  readonly #groups = new Map<string, ChangeGroup>();

  constructor(evaluate: Evaluate, options: Readonly<SimulationOptions> = {}) {
    this.#evaluate = evaluate;
    this.#examples = count(options.examples ?? DEFAULTS.examples, 'examples', 0, 100);
    this.#maxGroups = count(options.maxGroups ?? DEFAULTS.maxGroups, 'maxGroups', 1, 100_000);
    this.#since = options.sinceMs ?? -Infinity;
    this.#until = options.untilMs ?? Infinity;
    this.rssStart = process.memoryUsage.rss();
    this.rssPeak = this.rssStart;
  }

  /** Takes one line or message: its parsed event, or null when it is not JSON. */
  add(event: AuditEvent | null): void {
    if (++this.events % RSS_EVERY === 0) this.#sampleRss();
    if (!event || typeof event !== 'object') {
      this.unreadable++;
      return;
    }
    if (event.type !== 'decision') {
      this.skipped.notDecisions++;
      return;
    }
    if (this.#since !== -Infinity || this.#until !== Infinity) {
      const at = Date.parse(event.timestamp);
      if (!(at >= this.#since && at < this.#until)) {
        this.skipped.outsideWindow++;
        return;
      }
    }
    if (!event.input || typeof event.input !== 'object') {
      this.skipped.noInput++;
      return;
    }
    const revision = event.policy?.revision ?? 'unknown';
    const named = this.recordedRevisions.has(revision) || this.recordedRevisions.size < MAX_REVISIONS ? revision : 'other';
    this.recordedRevisions.set(named, (this.recordedRevisions.get(named) ?? 0) + 1);
    this.#replay(event);
  }

  /** Sorts the change groups, largest first, and takes a last memory sample. */
  finish(): void {
    this.#sampleRss();
    for (const t of [this.clear, this.masked]) t.changes.sort((a, b) => b.count - a.count);
  }

  #replay(event: AuditEvent): void {
    const isMasked = (event.masked?.length ?? 0) > 0 || (event.erased?.length ?? 0) > 0;
    const into = isMasked ? this.masked : this.clear;
    into.replayed++;
    const before = recorded(event);
    let decision: Decision | undefined;
    let after: Verdict;
    try {
      decision = this.#evaluate(event.input);
      after = verdictOf(decision);
    } catch (error) {
      after = failed(error);
    }
    const tool = event.tool?.name ?? (event.input as { tool?: { name?: string } }).tool?.name ?? 'unknown';
    if (before.outcome !== after.outcome || !sameCodes(before.codes, after.codes)) {
      this.#record(into, { kind: 'decision', tool, from: before, to: after }, event.decision_id);
      return;
    }
    const differ = decision && event.result ? obligationsDiffer(event.result.obligations, decision.obligations) : [];
    if (differ.length) this.#record(into, { kind: 'obligations', tool, from: before, to: after, obligations: differ }, event.decision_id);
    else into.unchanged++;
  }

  #record(into: ReplayTally, change: Omit<ChangeGroup, 'count' | 'examples'>, decisionId: string): void {
    into.changed++;
    const key = `${into === this.masked ? 'm' : 'c'}\0${change.kind}\0${change.tool}\0${change.from.outcome}\0${change.from.codes.join(',')}\0${change.to.outcome}\0${change.to.codes.join(',')}\0${change.obligations?.join(',') ?? ''}`;
    let group = this.#groups.get(key);
    if (!group) {
      if (this.#groups.size >= this.#maxGroups) {
        group = this.#overflow(into);
      } else {
        group = { ...change, count: 0, examples: [] };
        this.#groups.set(key, group);
        into.changes.push(group);
      }
    }
    group.count++;
    if (group.examples.length < this.#examples && typeof decisionId === 'string') group.examples.push(decisionId);
  }

  #overflow(into: ReplayTally): ChangeGroup {
    let group = into.changes.find((g) => g.kind === 'overflow');
    if (!group) {
      group = { kind: 'overflow', tool: '*', from: { outcome: '*', codes: [] }, to: { outcome: '*', codes: [] }, count: 0, examples: [] };
      into.changes.push(group);
    }
    return group;
  }

  #sampleRss(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.rssPeak) this.rssPeak = rss;
  }
}

function tally(): ReplayTally {
  return { replayed: 0, unchanged: 0, changed: 0, changes: [] };
}

/** The recorded policy decision: `result` when the policy decided, else the event's outcome and reasons. */
function recorded(event: AuditEvent): Verdict {
  if (event.result) return verdictOf(event.result);
  return { outcome: String(event.outcome), codes: codesOf(event.reasons) };
}

function verdictOf(decision: Pick<Decision, 'outcome' | 'reasons'>): Verdict {
  return { outcome: decision.outcome, codes: codesOf(decision.reasons) };
}

/** A candidate that failed to decide: the gateway would have refused with this code (fail closed). */
function failed(error: unknown): Verdict {
  return { outcome: 'error', codes: [error instanceof ToolgateError ? error.reason : 'policy_evaluation_failed'] };
}

function codesOf(reasons: readonly { code?: unknown }[] | undefined): string[] {
  if (!Array.isArray(reasons)) return [];
  const codes = new Set<string>();
  for (const r of reasons) if (typeof r?.code === 'string') codes.add(r.code);
  return [...codes].sort();
}

function sameCodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

const OBLIGATIONS = ['limits', 'redact', 'audit', 'approval'] as const;

/** Which obligations differ, compared as canonical JSON (the recorded copy went through JSON and masking). */
function obligationsDiffer(before: Decision['obligations'] | undefined, after: Decision['obligations']): string[] {
  if (!before) return [];
  return OBLIGATIONS.filter((k) => canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null));
}

function count(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError('simulation_options_invalid', `Simulation option ${name} must be an integer from ${min} to ${max} (got ${String(value)}).`);
  }
  return value;
}
