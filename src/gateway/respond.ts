import type { Response } from 'express';
import type { ToolCall } from '../extract/types.js';
import type { Reason } from '../policy/types.js';
import { ToolgateError } from '../errors.js';

export const DECISION_ID_HEADER = 'Toolgate-Decision-Id';

/** JSON-RPC error codes for refused MCP calls (server-defined range -32000..-32099). */
const RPC_CODES: Record<string, number> = {
  unauthenticated: -32001,
  deny: -32003,
  approval_required: -32004,
  rate_limited: -32029,
  unavailable: -32050,
  bad_request: -32600,
};

/** Bad requests that have a more precise status than 400. */
const BAD_REQUEST_STATUS: Readonly<Record<string, number>> = {
  body_too_large: 413,
  method_not_allowed: 405,
  unsupported_media_type: 415,
};

export interface Refusal {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly kind: keyof typeof RPC_CODES | string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends a refusal as the HTTP contract's JSON, or as a JSON-RPC error object for MCP calls. */
export function sendRefusal(res: Response, decisionId: string, refusal: Refusal, call?: Pick<ToolCall, 'protocol' | 'rpcId'>): void {
  res.setHeader(DECISION_ID_HEADER, decisionId);
  for (const [k, v] of Object.entries(refusal.headers ?? {})) res.setHeader(k, v);
  res.status(refusal.status);
  if (call?.protocol === 'mcp') {
    res.json({
      jsonrpc: '2.0',
      id: call.rpcId ?? null,
      error: { code: RPC_CODES[refusal.kind] ?? -32000, message: refusal.message, data: refusal.body },
    });
    return;
  }
  res.json(refusal.body);
}

export function errorRefusal(error: ToolgateError, decisionId: string): Refusal {
  const status = error.kind === 'unauthenticated' ? 401 : error.kind === 'bad_request' ? (BAD_REQUEST_STATUS[error.reason] ?? 400) : 503;
  const label = error.kind === 'config' ? 'unavailable' : error.kind;
  return {
    status,
    kind: label,
    message: error.message,
    body: { error: label, reason: error.reason, message: error.message, decision_id: decisionId },
  };
}

export function decisionRefusal(
  outcome: 'deny' | 'approval_required',
  reasons: readonly Reason[],
  decisionId: string,
  revision: string,
  extra: { approval?: { id: string; expires_at: string }; retryAfterS?: number } = {},
): Refusal {
  const policy = { revision };
  if (outcome === 'approval_required') {
    return {
      status: 202,
      kind: 'approval_required',
      message: 'This call needs a human approval: ask an approver to approve it, then retry with the Toolgate-Approval header.',
      body: { decision: 'approval_required', approval: extra.approval, reasons, decision_id: decisionId, policy },
    };
  }
  const limited = extra.retryAfterS !== undefined;
  return {
    status: limited ? 429 : 403,
    kind: limited ? 'rate_limited' : 'deny',
    message: reasons.map((r) => r.message).join(' '),
    body: { decision: 'deny', reasons, decision_id: decisionId, policy },
    headers: limited ? { 'Retry-After': String(Math.max(1, Math.ceil(extra.retryAfterS ?? 1))) } : {},
  };
}
