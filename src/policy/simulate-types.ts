/** Types of `toolgate policy simulate`: recorded decisions replayed through a candidate policy. */

/** How a simulation counts and what it keeps. Every field is optional; defaults in brackets. */
export interface SimulationOptions {
  /** Example decision ids kept per change group [3]. */
  readonly examples?: number;
  /**
   * Distinct change groups kept [1000]. Groups are (old → new outcome, tool, reason codes): few in practice, but a
   * policy that quotes arguments in reason codes could make one per decision, so past this count further changes
   * are tallied in one overflow group and memory stays bounded whatever the traffic.
   */
  readonly maxGroups?: number;
  /** Replay only events with a timestamp at or after this instant (ms since the epoch) [no bound]. */
  readonly sinceMs?: number;
  /** Replay only events with a timestamp before this instant (ms since the epoch) [no bound]. */
  readonly untilMs?: number;
}

/** A decision reduced to what a simulation compares: the outcome and the sorted, distinct reason codes. */
export interface Verdict {
  /** `allow`, `deny`, `approval_required`, or `error` (the policy failed or gave no decision). */
  readonly outcome: string;
  readonly codes: readonly string[];
}

/** One kind of change between the recorded decision and the candidate's, with how often it happened. */
export interface ChangeGroup {
  /**
   * `decision`: the outcome or the reason codes changed. `obligations`: same outcome and codes, but the limits,
   * redaction, audit level or approval TTL the gateway would enforce differ (listed in `obligations`).
   * `overflow`: changes past `maxGroups` distinct groups, counted together.
   */
  readonly kind: 'decision' | 'obligations' | 'overflow';
  readonly tool: string;
  readonly from: Verdict;
  readonly to: Verdict;
  /** For `obligations`: which ones differ (`limits`, `redact`, `audit`, `approval`). */
  readonly obligations?: readonly string[];
  count: number;
  /** The first few decision ids with this change, for `toolgate audit tail | grep` or `policy eval --event`. */
  readonly examples: string[];
}

/** Replayed decisions of one kind (with clear inputs, or with masked ones) and how they changed. */
export interface ReplayTally {
  replayed: number;
  unchanged: number;
  changed: number;
  /** Largest first. */
  readonly changes: ChangeGroup[];
}

/** What `toolgate policy simulate` prints (`--json`). */
export interface SimulationReport {
  readonly candidate: { readonly revision: string; readonly sha256: string };
  readonly source: string;
  readonly window: { readonly since: string | null; readonly until: string | null };
  /** Every line or message read. */
  readonly events: number;
  /** Lines or messages that are not JSON (a torn last line of a file is not counted: see tornBytes). */
  readonly unreadable: number;
  /** Bytes after a file's last newline: a line the gateway is still writing, or one a crash cut short (never acknowledged). */
  readonly tornBytes: number;
  readonly skipped: {
    /** Completion and approval events: they record no policy input. */
    readonly notDecisions: number;
    /** Decision events without an input: refused before the policy saw them (unauthenticated, invalid). */
    readonly noInput: number;
    /** Outside --since/--until. */
    readonly outsideWindow: number;
  };
  /** Decisions whose recorded input is what the policy saw: their changes are the candidate's. */
  readonly clear: ReplayTally;
  /**
   * Decisions whose audit input had values masked or erased before it was written (`masked`/`erased` non-empty):
   * the replay sees the masks where the policy saw the values, so a change here may come from the masking alone.
   */
  readonly masked: ReplayTally;
  /** Policy revisions that made the recorded decisions, with counts (at most 20 named; the rest under `other`). */
  readonly recordedRevisions: Readonly<Record<string, number>>;
  readonly elapsedS: number;
  /** Events read per second, the whole run (reading, parsing and evaluating). */
  readonly eventsPerS: number;
  /** Resident set size when the replay started, and the highest seen while it ran (sampled). */
  readonly memory: { readonly rssStartMb: number; readonly rssPeakMb: number };
  /** --max-changed, if given, and whether `clear.changed` is past it (the command then exits 1). */
  readonly maxChanged: number | null;
  readonly exceeded: boolean;
}
