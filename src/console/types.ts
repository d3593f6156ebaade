import type { ApprovalStore } from '../approvals/types.js';
import type { VerifiedAgent, Verifier } from '../identity/types.js';
import type { Logger } from '../logger.js';

export type { DecisionSummary } from './wire.js';

/**
 * Where the console reads the audit trail from: the gateway's JSONL file, several (one per `serve --workers`
 * process, each its own chain), or the Kafka topic.
 */
export type ConsoleAuditSource =
  | { readonly file: string }
  | { readonly files: readonly string[] }
  | { readonly kafka: { readonly brokers: readonly string[]; readonly topic: string } };

export interface ConsoleOptions {
  /** The gateway's approval store: the pending list is read from it (decisions go through the Approvals API). */
  readonly store: ApprovalStore;
  /** The gateway's verifier: every console API request is signed by a registered key, like an agent's call. */
  readonly verifier: Verifier;
  readonly audit: ConsoleAuditSource;
  /**
   * PEM file of the gateway's audit key (private or public, Ed25519), to check checkpoint signatures in the detail
   * view. Default none: signatures are reported as unchecked.
   */
  readonly auditKeyFile?: string;
  /** Base URL of the Jaeger UI; the detail view links `<jaegerUrl>/trace/<trace id>`. Default none (no link). */
  readonly jaegerUrl?: string;
  /** Folder holding the built page (index.html, app.js, app.css and their .br/.gz). Default: dist/console/assets. */
  readonly assetsDir?: string;
  /** Who may see the pending list (and decide, through the Approvals API). Default: `labels.role === 'approver'`. */
  readonly isApprover?: (agent: VerifiedAgent) => boolean;
  /** Who may read the decisions feed. Default: role `approver` or `auditor`. A throwing hook means "no". */
  readonly isViewer?: (agent: VerifiedAgent) => boolean;
  /** Most audit events kept in memory for the feed and the detail view. Default 10_000. */
  readonly feedMaxEvents?: number;
  /** Most bytes of audit events kept in memory (the oldest go first). Default 33_554_432 (32 MiB). */
  readonly feedMaxBytes?: number;
  /** How often the pending list and the audit file are re-read while a console is open (ms). Default 1000. */
  readonly pollMs?: number;
  /** A live stream ends after this long, and the page reconnects with a fresh signature (ms). Default 300_000. */
  readonly streamMaxMs?: number;
  /** Clock in ms. Default Date.now. */
  readonly now?: () => number;
  readonly logger?: Logger;
}

export interface DecisionFilter {
  readonly agent?: string;
  readonly tool?: string;
  readonly outcome?: string;
  readonly reason?: string;
  readonly type?: string;
  /** Inclusive bounds, ms since the epoch. */
  readonly sinceMs?: number;
  readonly untilMs?: number;
}
