import type { ApprovalFacts, Reason } from '../policy/types.js';

/** Where an approval stands in the store. `expired` is also reported for a pending/approved one past `expires_at`. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired';

export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'used', 'expired'];

/**
 * One human approval of one exact tool call. `binding` ties it to (agent, tool, canonical args): the agent can
 * only spend it on the call that was approved. Immutable except for the decision and use fields.
 */
export interface ApprovalRecord {
  readonly id: string;
  readonly status: ApprovalStatus;
  /** The requesting agent's id: it can never decide its own approval. */
  readonly agent: string;
  readonly tool: string;
  /** sha256 hex of canonicalJson({agent, tool, args}), see approvalBinding(). */
  readonly binding: string;
  /** sha256 hex of canonicalJson(args), for the audit trail. */
  readonly args_sha256: string;
  /** The policy's reasons for asking. */
  readonly reasons: readonly Reason[];
  /** Decision that created the approval. */
  readonly decision_id: string;
  /**
   * What the approver is shown besides tool and reasons, e.g. the masked arguments as JSON. Never put secrets
   * here: it is stored (Redis) and listed through the API.
   */
  readonly summary?: string;
  /** RFC 3339. */
  readonly created_at: string;
  /** RFC 3339: after this the approval can neither be decided nor used. */
  readonly expires_at: string;
  readonly decided_by?: string;
  readonly decided_at?: string;
  /** Optional comment the approver gave with the decision. */
  readonly comment?: string;
  readonly used_at?: string;
  /** Decision id of the call that spent the approval. */
  readonly used_by_decision?: string;
}

export type DecideVerdict = 'approve' | 'deny';

/** Why a decide() was refused (stable codes, also the Approvals API's `reason`). */
export type DecideRefusal = 'approval_unknown' | 'approver_is_requester' | 'approval_not_pending' | 'approval_expired';

export type DecideResult =
  | { readonly ok: true; readonly record: ApprovalRecord }
  | { readonly ok: false; readonly reason: DecideRefusal; readonly record: ApprovalRecord | null };

export interface ApprovalListQuery {
  /** Effective status to list. Default `pending`. */
  readonly status?: ApprovalStatus;
  /** Most records returned, newest first. Default 100, at most 1000. */
  readonly limit?: number;
  /** Clock for deciding what counts as expired. Default Date.now(). */
  readonly nowMs?: number;
}

/**
 * Approval state. Memory and Redis implementations share one contract suite (test/approvals/). decide() and
 * consume() are atomic: across any number of concurrent callers (and gateway instances, with Redis) an approval
 * is decided once and spent once.
 */
export interface ApprovalStore {
  /** Stores a new pending approval (see newApprovalRecord()). Throws if the id exists. */
  create(record: ApprovalRecord): Promise<void>;
  /** The record as stored (status not adjusted for time; see effectiveStatus()), or null. */
  get(id: string): Promise<ApprovalRecord | null>;
  /** Records whose effective status is `query.status` (default pending), newest first. */
  list(query?: ApprovalListQuery): Promise<ApprovalRecord[]>;
  /** pending → approved/denied, by `approver` (an agent id, never the requester's). */
  decide(id: string, approver: string, verdict: DecideVerdict, nowMs: number, comment?: string): Promise<DecideResult>;
  /**
   * approved → used, if `binding` matches and it has not expired. Resolves the facts for the policy/audit:
   * `approved` exactly once; afterwards `used`. A wrong binding is `mismatch` and leaves the approval untouched.
   */
  consume(id: string, binding: string, nowMs: number, decisionId: string): Promise<ApprovalFacts>;
  /**
   * used → approved, if the call `decisionId` spent it: that call did not execute, so the approval is given back.
   * Resolves whether it was restored (false when another call spent it, or it is not spent).
   */
  restore(id: string, decisionId: string): Promise<boolean>;
  close?(): Promise<void>;
}

/** Request header an agent retries with (lower-case, as in Node's header map). */
export const APPROVAL_HEADER = 'toolgate-approval';
