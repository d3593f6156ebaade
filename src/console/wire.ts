/*
 * The console API's JSON shapes, shared by the gateway side and the page (src/console/web imports them as types;
 * this file imports nothing, so the page's DOM build checks it as it is).
 */

/** One audit event as the feed lists it: what the filters and the table need, never the input. */
export interface DecisionSummary {
  readonly type: string;
  readonly decision_id: string;
  readonly timestamp: string;
  readonly agent: string | null;
  readonly tool: string | null;
  readonly outcome: string;
  readonly reasons: readonly string[];
  readonly policy_revision: string | null;
  readonly trace_id: string | null;
  readonly chain: { readonly instance: string; readonly epoch: string; readonly seq: number };
}

/** How far the detail view could check one event's place in its chain. */
export interface ChainCheck {
  readonly instance: string;
  readonly epoch: string;
  readonly seq: number;
  readonly hash: string;
  readonly prev: string;
  /** The event's own hash matches its content. */
  readonly hash_ok: boolean;
  /**
   * `ok`: the checkpoint covering it is signed by the audit key and every link up to it holds; `bad`: a link or
   * the signature fails; `pending`: no checkpoint after it yet; `unchecked`: no audit key was configured, or the
   * checkpoint is signed by another key; `unavailable`: events between it and its checkpoint are no longer in memory.
   */
  readonly signature: 'ok' | 'bad' | 'pending' | 'unchecked' | 'unavailable';
  readonly checkpoint_seq: number | null;
  readonly key_id: string;
}
