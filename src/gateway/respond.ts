import type { Response } from 'express';
import type { ToolCall } from '../extract/types.js';
import type { Reason } from '../policy/types.js';
import { BadRequestError, ToolgateError } from '../errors.js';
import { McpRequestError } from '../extract/parse.js';

export const DECISION_ID_HEADER = 'Toolgate-Decision-Id';

/**
 * JSON-RPC error codes of gateway refusals on /mcp: the -32080..-32089 block of the server-defined range, which
 * nothing in the MCP specification or the official SDK uses (the SDK takes -32000 for a closed connection, -32001
 * for a request timeout and an unknown session, -32002, -32020 and -32042 are the spec's). A bad request keeps
 * JSON-RPC's own -32600.
 */
export const RPC_CODES: Readonly<Record<string, number>> = {
  unauthenticated: -32081,
  deny: -32083,
  approval_required: -32084,
  unavailable: -32085,
  rate_limited: -32089,
  bad_request: -32600,
};
/** Any other gateway refusal. */
const RPC_GATEWAY_ERROR = -32080;

/**
 * The kinds of a policy's refusal (deny, limited, approval needed). On /mcp they are answered 200 so an MCP
 * client reads them as data: the official SDK turns a non-2xx answer into a transport error with no code or data,
 * and a 202 into "accepted, no body" (the caller then waits for its timeout).
 */
const DECISION_KINDS: ReadonlySet<string> = new Set(['deny', 'approval_required', 'rate_limited']);

/** The status MCP's Streamable HTTP transport answers a request on an unknown or ended session with. */
const SESSION_GONE = 404;

/** Bad requests that have a more precise status than 400. */
const BAD_REQUEST_STATUS: Readonly<Record<string, number>> = {
  body_too_large: 413,
  findings_too_many: 413,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  mcp_origin_forbidden: 403,
};

/** Bad requests the MCP specification gives a JSON-RPC code of its own (2026-07-28, and JSON-RPC's invalid params). */
const SPEC_RPC_CODES: Readonly<Record<string, number>> = {
  mcp_header_mismatch: -32020,
  mcp_protocol_version_unsupported: -32022,
  mcp_invalid_params: -32602,
};

/** Bad requests that are the gateway's own rules rather than malformed JSON-RPC: the gateway's code, not -32600. */
const GATEWAY_RPC_CODES: Readonly<Record<string, number>> = {
  mcp_origin_forbidden: RPC_GATEWAY_ERROR,
};

export interface Refusal {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly kind: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The JSON-RPC error code on /mcp when the kind's is not the right one. */
  readonly rpcCode?: number;
  /** The JSON-RPC id of a message refused before it was parsed into a call, when its id could be read. */
  readonly rpcId?: string | number;
  /** The result a refused MCP tools/call answers instead of the tool failure (an MCP 2026-07-28 InputRequiredResult). */
  readonly mcpResult?: Record<string, unknown>;
  /** The JSON-RPC error a refused MCP tools/call answers instead (MCP 2025-11-25 URLElicitationRequiredError). */
  readonly mcpError?: { readonly code: number; readonly message: string; readonly data: Record<string, unknown> };
}

/**
 * Sends a refusal as the HTTP contract's JSON, or on /mcp as JSON-RPC: a policy's refusal of a tools/call as a
 * CallToolResult with `isError: true` whose `structuredContent` is the decision body (what the model should see),
 * of another JSON-RPC request as a JSON-RPC error carrying it, both with HTTP 200; authentication failures (401),
 * bad requests (4xx), an unknown session (404) and an unavailable gateway (503) keep their HTTP status, with a
 * JSON-RPC error body.
 */
export function sendRefusal(res: Response, decisionId: string, refusal: Refusal, call?: Pick<ToolCall, 'protocol' | 'rpcId'> & { readonly tool?: string }): void {
  res.setHeader(DECISION_ID_HEADER, decisionId);
  for (const [k, v] of Object.entries(refusal.headers ?? {})) res.setHeader(k, v);
  if (call?.protocol !== 'mcp') {
    res.status(refusal.status).json(refusal.body);
    return;
  }
  const id = call.rpcId ?? null;
  // 404 is MCP's transport signal that the session is gone (the client opens a new one), never a tool result.
  const readable = DECISION_KINDS.has(refusal.kind) && id !== null && refusal.status !== SESSION_GONE;
  res.status(readable ? 200 : refusal.status);
  if (readable && call.tool !== undefined) {
    res.json(refusal.mcpError ? { jsonrpc: '2.0', id, error: refusal.mcpError } : { jsonrpc: '2.0', id, result: refusal.mcpResult ?? refusedToolResult(refusal) });
    return;
  }
  res.json({ jsonrpc: '2.0', id, error: { code: refusal.rpcCode ?? RPC_CODES[refusal.kind] ?? RPC_GATEWAY_ERROR, message: refusal.message, data: refusal.body } });
}

/**
 * A refused tools/call as the tool failure MCP defines: the model sees why (the sentence, then the decision body
 * as JSON text for clients that do not read `structuredContent`), the client reads the body as structured data.
 */
function refusedToolResult(refusal: Refusal): Record<string, unknown> {
  return {
    content: [
      { type: 'text', text: `toolgate refused this call (${refusal.kind}): ${refusal.message}` },
      { type: 'text', text: JSON.stringify(refusal.body) },
    ],
    structuredContent: refusal.body,
    isError: true,
  };
}

export function errorRefusal(error: ToolgateError, decisionId: string): Refusal {
  const status = error.kind === 'unauthenticated' ? 401 : error.kind === 'bad_request' ? (BAD_REQUEST_STATUS[error.reason] ?? 400) : 503;
  const label = error.kind === 'config' ? 'unavailable' : error.kind;
  const details = error instanceof BadRequestError ? error.details : undefined;
  const rpcCode = SPEC_RPC_CODES[error.reason] ?? GATEWAY_RPC_CODES[error.reason];
  const rpcId = error instanceof McpRequestError ? error.rpcId : undefined;
  return {
    status,
    kind: label,
    message: error.message,
    // The details first: they can never overwrite the contract's members.
    body: { ...details, error: label, reason: error.reason, message: error.message, decision_id: decisionId },
    ...(rpcCode !== undefined ? { rpcCode } : {}),
    ...(rpcId !== undefined ? { rpcId } : {}),
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
