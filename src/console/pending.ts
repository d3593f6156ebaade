import type { ApprovalRecord, ApprovalStore } from '../approvals/types.js';
import type { Logger } from '../logger.js';

/** A pending approval as the live list shows it: the summary cut to a preview (the detail fetches it whole). */
export type PendingItem = Omit<ApprovalRecord, 'summary'> & { readonly summary_preview?: string; readonly summary_chars?: number; readonly policy_revision?: string | null };

export type PendingListener = (items: readonly PendingItem[]) => void;

const PREVIEW_CHARS = 2000;

/**
 * Watches the store's pending approvals while anyone listens: re-reads them every `pollMs` (and at once when told,
 * e.g. when the audit trail shows a decision) and tells every listener when the set changed. Polling the store is
 * what works across gateway instances sharing Redis; with no console open it costs nothing.
 */
export class PendingWatch {
  readonly #store: ApprovalStore;
  readonly #pollMs: number;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #listeners = new Set<PendingListener>();
  #timer: NodeJS.Timeout | undefined;
  #current: readonly PendingItem[] | undefined;
  #fingerprint = '';
  #busy: Promise<void> | undefined;

  readonly #enrich: (item: PendingItem) => PendingItem;

  /** `enrich` adds what the store does not hold (the policy revision, from the audit trail); part of the change check. */
  constructor(store: ApprovalStore, options: { pollMs: number; now: () => number; logger?: Logger | undefined; enrich?: (item: PendingItem) => PendingItem }) {
    this.#store = store;
    this.#enrich = options.enrich ?? ((item) => item);
    this.#pollMs = options.pollMs;
    this.#now = options.now;
    this.#logger = options.logger;
  }

  /** Adds a listener; it hears the current list at once, then every change. */
  subscribe(listener: PendingListener): () => void {
    this.#listeners.add(listener);
    if (this.#current !== undefined) listener(this.#current);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.refresh(), this.#pollMs);
      this.#timer.unref();
    }
    void this.refresh();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.close();
    };
  }

  refresh(): Promise<void> {
    if (this.#listeners.size === 0) return Promise.resolve();
    this.#busy ??= this.#read().finally(() => {
      this.#busy = undefined;
    });
    return this.#busy;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#current = undefined;
    this.#fingerprint = '';
  }

  async #read(): Promise<void> {
    let records: ApprovalRecord[];
    try {
      records = await this.#store.list({ status: 'pending', limit: 1000, nowMs: this.#now() });
    } catch (error) {
      this.#logger?.warn('console cannot list pending approvals; retrying', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const items = records.map((r) => this.#enrich(preview(r)));
    const fingerprint = items.map((r) => `${r.id}:${r.status}:${String(r.policy_revision)}`).join(',');
    if (fingerprint === this.#fingerprint && this.#current !== undefined) return;
    this.#fingerprint = fingerprint;
    this.#current = items;
    for (const listener of this.#listeners) listener(this.#current);
  }
}

function preview(record: ApprovalRecord): PendingItem {
  const { summary, ...rest } = record;
  if (summary === undefined) return rest;
  return { ...rest, summary_preview: summary.length > PREVIEW_CHARS ? summary.slice(0, PREVIEW_CHARS) : summary, summary_chars: summary.length };
}
