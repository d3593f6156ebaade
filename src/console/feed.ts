import type { AuditEvent } from '../audit/types.js';
import type { DecisionFilter, DecisionSummary } from './types.js';

interface Entry {
  readonly summary: DecisionSummary;
  /** The event's JSON line, parsed again only for the detail view (a summary is all the feed needs). */
  readonly line: string;
}

export type FeedListener = (summary: DecisionSummary) => void;

/**
 * The recent audit trail in memory: newest last, bounded by a count and a byte budget (an event can carry a 1 MiB
 * input), indexed by chain position for the detail view's verification. Readers (the file tail, the topic) add
 * lines in the order they come; listeners hear every event added.
 */
export class AuditFeed {
  readonly #entries: Entry[] = [];
  #head = 0;
  #bytes = 0;
  readonly #byPosition = new Map<string, Entry>();
  /** Decision id to the summary of its decision event (what the pending list shows the policy revision from). */
  readonly #decisions = new Map<string, DecisionSummary>();
  /** Highest sequence number seen per chain: tells a hole in what is kept from a chain's unwritten future. */
  readonly #maxSeq = new Map<string, number>();
  readonly #listeners = new Set<FeedListener>();
  readonly #maxEvents: number;
  readonly #maxBytes: number;

  constructor(maxEvents: number, maxBytes: number) {
    this.#maxEvents = maxEvents;
    this.#maxBytes = maxBytes;
  }

  /** Adds one JSON line; anything that is not an audit event is skipped (the verify command reports those). */
  add(line: string): void {
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      return;
    }
    const summary = summarize(event);
    if (summary === null) return;
    const key = positionKey(summary.chain.instance, summary.chain.epoch, summary.chain.seq);
    // A topic read again after a broker failure delivers the same events again: keep each once.
    if (this.#byPosition.get(key)?.line === line) return;
    const entry: Entry = { summary, line };
    this.#entries.push(entry);
    this.#bytes += line.length;
    this.#byPosition.set(key, entry);
    if (summary.type === 'decision') this.#decisions.set(summary.decision_id, summary);
    const chainKey = positionKey(summary.chain.instance, summary.chain.epoch, -1);
    if (!((this.#maxSeq.get(chainKey) ?? -1) >= summary.chain.seq)) this.#maxSeq.set(chainKey, summary.chain.seq);
    while (this.size > this.#maxEvents || (this.#bytes > this.#maxBytes && this.size > 1)) this.#evict();
    for (const listener of this.#listeners) listener(summary);
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Newest first, at most `limit`, matching `filter`. */
  list(filter: DecisionFilter, limit: number): DecisionSummary[] {
    const out: DecisionSummary[] = [];
    for (let i = this.#entries.length - 1; i >= this.#head && out.length < limit; i--) {
      const s = this.#entries[i]!.summary;
      if (matches(s, filter)) out.push(s);
    }
    return out;
  }

  /** Every kept event of one decision (its decision, completion and approval events), oldest first. */
  events(decisionId: string): AuditEvent[] {
    const out: AuditEvent[] = [];
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.summary.decision_id === decisionId) out.push(JSON.parse(e.line) as AuditEvent);
    }
    return out;
  }

  /** The kept event at a chain position, parsed, or undefined. */
  at(instance: string, epoch: string, seq: number): AuditEvent | undefined {
    const e = this.#byPosition.get(positionKey(instance, epoch, seq));
    return e === undefined ? undefined : (JSON.parse(e.line) as AuditEvent);
  }

  /** The highest sequence number seen in a chain (-1 for none). */
  lastSeq(instance: string, epoch: string): number {
    return this.#maxSeq.get(positionKey(instance, epoch, -1)) ?? -1;
  }

  /** The kept decision event's summary for a decision id. */
  decision(decisionId: string): DecisionSummary | undefined {
    return this.#decisions.get(decisionId);
  }

  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #evict(): void {
    const e = this.#entries[this.#head]!;
    this.#head++;
    this.#bytes -= e.line.length;
    const key = positionKey(e.summary.chain.instance, e.summary.chain.epoch, e.summary.chain.seq);
    if (this.#byPosition.get(key) === e) this.#byPosition.delete(key);
    if (this.#decisions.get(e.summary.decision_id) === e.summary) this.#decisions.delete(e.summary.decision_id);
    // Compact now and then instead of shifting on every eviction (shift is O(n)).
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

function positionKey(instance: string, epoch: string, seq: number): string {
  return `${instance}\u0000${epoch}\u0000${seq}`;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function summarize(event: AuditEvent): DecisionSummary | null {
  if (event === null || typeof event !== 'object' || typeof event.chain !== 'object' || event.chain === null || typeof event.chain.seq !== 'number') return null;
  return {
    type: String(event.type),
    decision_id: String(event.decision_id),
    timestamp: String(event.timestamp),
    agent: str(event.agent?.id),
    tool: str(event.tool?.name),
    outcome: String(event.outcome),
    reasons: Array.isArray(event.reasons) ? event.reasons.map((r) => String(r?.code)) : [],
    policy_revision: str(event.policy?.revision),
    trace_id: str(event.trace_id),
    chain: { instance: String(event.chain.instance), epoch: String(event.chain.epoch), seq: event.chain.seq },
  };
}

export function matches(s: DecisionSummary, f: DecisionFilter): boolean {
  if (f.agent !== undefined && s.agent !== f.agent) return false;
  if (f.tool !== undefined && s.tool !== f.tool) return false;
  if (f.outcome !== undefined && s.outcome !== f.outcome) return false;
  if (f.type !== undefined && s.type !== f.type) return false;
  if (f.reason !== undefined && !s.reasons.includes(f.reason)) return false;
  if (f.sinceMs !== undefined || f.untilMs !== undefined) {
    const t = Date.parse(s.timestamp);
    if (f.sinceMs !== undefined && !(t >= f.sinceMs)) return false;
    if (f.untilMs !== undefined && !(t <= f.untilMs)) return false;
  }
  return true;
}
