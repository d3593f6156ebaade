import { randomBytes } from 'node:crypto';
import type { ApprovalFacts, Reason } from '../policy/types.js';
import { approvalBinding, argsSha256 } from './binding.js';
import type { ApprovalRecord, ApprovalStatus, DecideResult, DecideVerdict } from './types.js';

/** Default lifetime of an approval when the policy's `obligations.approval.ttl_s` does not say. */
export const DEFAULT_APPROVAL_TTL_S = 900;

const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** A fresh approval id: `apr_` + 128 random bits, base64url (safe in URLs, headers and Redis keys). */
export function newApprovalId(): string {
  return `apr_${randomBytes(16).toString('base64url')}`;
}

/** Whether `id` could be an approval id; anything else (huge, odd characters) is `unknown` without a store lookup. */
export function isApprovalId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

export interface NewApproval {
  readonly agent: string;
  readonly tool: string;
  /** The call's arguments exactly as the policy saw them (the binding hashes them canonically). */
  readonly args: unknown;
  readonly reasons: readonly Reason[];
  readonly decisionId: string;
  /** Lifetime in seconds. Default 900. */
  readonly ttlS?: number;
  readonly nowMs: number;
  /** Shown to approvers, whole (masked args as JSON: everything the tool will receive, secrets masked). */
  readonly summary?: string;
  /** The MCP tool definition's digest the call was decided with (part of the binding). */
  readonly definition?: string | null;
}

/** Builds the pending record the gateway stores when the policy answers `approval_required`. */
export function newApprovalRecord(a: NewApproval): ApprovalRecord {
  const ttlS = a.ttlS ?? DEFAULT_APPROVAL_TTL_S;
  if (typeof ttlS !== 'number' || !Number.isFinite(ttlS) || ttlS <= 0) throw new TypeError(`approval ttlS must be a positive number of seconds, got ${String(ttlS)}`);
  // Never cut: the approver must see everything that will run (the body limit bounds it).
  const summary = a.summary === undefined ? undefined : wellFormed(a.summary);
  return {
    id: newApprovalId(),
    status: 'pending',
    agent: wellFormed(a.agent),
    tool: wellFormed(a.tool),
    binding: approvalBinding(a.agent, a.tool, a.args, a.definition),
    args_sha256: argsSha256(a.args),
    reasons: a.reasons.map((r) => ({ code: wellFormed(String(r.code)), message: wellFormed(String(r.message)) })),
    decision_id: a.decisionId,
    ...(summary === undefined ? {} : { summary }),
    created_at: new Date(a.nowMs).toISOString(),
    expires_at: new Date(a.nowMs + Math.ceil(ttlS * 1000)).toISOString(),
  };
}

export function expiresMs(record: Pick<ApprovalRecord, 'expires_at'>): number {
  return Date.parse(record.expires_at);
}

/** The status a reader should see at `nowMs`: a pending or approved approval past `expires_at` is expired. */
export function effectiveStatus(record: ApprovalRecord, nowMs: number): ApprovalStatus {
  if ((record.status === 'pending' || record.status === 'approved') && !(nowMs < expiresMs(record))) return 'expired';
  return record.status;
}

/** The record as a reader should see it at `nowMs` (status adjusted for expiry). */
export function withEffectiveStatus(record: ApprovalRecord, nowMs: number): ApprovalRecord {
  const status = effectiveStatus(record, nowMs);
  return status === record.status ? record : { ...record, status };
}

/**
 * What the policy sees for an approval presented with a call whose binding is `binding` (non-consuming).
 * A binding mismatch wins over every status: an approval for another call says nothing about this one.
 */
export function approvalFacts(id: string, record: ApprovalRecord | null, binding: string, nowMs: number): ApprovalFacts {
  if (record === null) return { id, status: 'unknown' };
  if (record.binding !== binding) return { id, status: 'mismatch' };
  const status = effectiveStatus(record, nowMs);
  if ((status === 'approved' || status === 'used') && record.decided_by !== undefined) return { id, status, approved_by: record.decided_by };
  return { id, status };
}

/**
 * decide() as a pure transition; the Redis Lua script (scripts.ts) mirrors it check for check.
 * Order: unknown, requester, already expired, not pending, past expiry (→ stored as expired), then decide.
 */
export function decideTransition(
  record: ApprovalRecord | null,
  approver: string,
  verdict: DecideVerdict,
  nowMs: number,
  comment?: string,
): { result: DecideResult; next?: ApprovalRecord } {
  if (record === null) return { result: { ok: false, reason: 'approval_unknown', record: null } };
  if (record.agent === approver) return { result: { ok: false, reason: 'approver_is_requester', record } };
  if (record.status === 'expired') return { result: { ok: false, reason: 'approval_expired', record } };
  if (record.status !== 'pending') return { result: { ok: false, reason: 'approval_not_pending', record } };
  if (!(nowMs < expiresMs(record))) {
    const next: ApprovalRecord = { ...record, status: 'expired' };
    return { result: { ok: false, reason: 'approval_expired', record: next }, next };
  }
  const next: ApprovalRecord = {
    ...record,
    status: verdict === 'approve' ? 'approved' : 'denied',
    decided_by: approver,
    decided_at: new Date(nowMs).toISOString(),
    ...(comment === undefined || comment === '' ? {} : { comment }),
  };
  return { result: { ok: true, record: next }, next };
}

/** consume() as a pure transition; mirrored by the Redis Lua script. */
export function consumeTransition(
  id: string,
  record: ApprovalRecord | null,
  binding: string,
  nowMs: number,
  decisionId: string,
): { facts: ApprovalFacts; next?: ApprovalRecord } {
  if (record === null) return { facts: { id, status: 'unknown' } };
  if (record.binding !== binding) return { facts: { id, status: 'mismatch' } };
  if (record.status === 'used') return { facts: record.decided_by === undefined ? { id, status: 'used' } : { id, status: 'used', approved_by: record.decided_by } };
  if (record.status === 'denied' || record.status === 'expired') return { facts: { id, status: record.status } };
  if (!(nowMs < expiresMs(record))) return { facts: { id, status: 'expired' }, next: { ...record, status: 'expired' } };
  if (record.status === 'pending') return { facts: { id, status: 'pending' } };
  const next: ApprovalRecord = { ...record, status: 'used', used_at: new Date(nowMs).toISOString(), used_by_decision: decisionId };
  return { facts: record.decided_by === undefined ? { id, status: 'approved' } : { id, status: 'approved', approved_by: record.decided_by }, next };
}

/**
 * used → approved, only for the call that spent it (`used_by_decision`): that call did not run (a later stage
 * failed), so the person's approval is given back for a retry. Anything else is left as it is.
 */
export function restoreTransition(record: ApprovalRecord | null, decisionId: string): { restored: boolean; next?: ApprovalRecord } {
  if (record === null || record.status !== 'used' || record.used_by_decision !== decisionId) return { restored: false };
  const { used_at: _usedAt, used_by_decision: _usedBy, ...rest } = record;
  return { restored: true, next: { ...rest, status: 'approved' } };
}

// Lone UTF-16 surrogates survive JSON.stringify as \udXXX escapes that Redis's cjson refuses to decode, which
// would make an approval undecidable: replace them (they can only come from odd tool names or args text).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}
