import type { Response } from 'express';
import type { Erasure } from '../classify/mask.js';
import { redactAt } from '../classify/redact.js';
import type { ToolCall } from '../extract/types.js';
import { isArgsPointer } from '../policy/decision.js';
import { transformResponse } from './response-rewrite.js';

/**
 * Rewrites the call's arguments in place of the parsed body (HTTP: the body is the arguments; MCP: params.arguments)
 * with redaction applied at the policy's pointers into the input: `/args` itself or anything below it, e.g. every
 * PII finding's `/args/notes/content` (parseDecision refuses other pointers, so none is skipped silently). A
 * pointer at an object (a finding in a member name points at the object holding it) masks what the detectors find
 * in its strings and member names, keeping every member. A pointer the policy repeats is applied once.
 */
export function applyRequestRedaction(call: ToolCall, pointers: readonly string[]): Erasure[] {
  const unique = [...new Set(pointers)].filter(isArgsPointer);
  if (unique.length === 0) return [];
  // Pointers are resolved in a document shaped like the input ({ args }), so `/args` itself is one of them too.
  const { doc, removed } = redactAt({ args: call.args }, unique);
  const args = (doc as { args: Record<string, unknown> }).args;
  const mutable = call as { args: Record<string, unknown>; body: unknown };
  mutable.args = args;
  if (call.protocol === 'http') mutable.body = args;
  else mutable.body = { ...(call.body as Record<string, unknown>), params: { ...((call.body as { params: object }).params), arguments: args } };
  return removed;
}

/** Redacts the tool's answer at `pointers` before it reaches the agent (see transformResponse for where). */
export function redactResponse(res: Response, pointers: readonly string[], removedOut: Erasure[]): void {
  transformResponse(res, (doc) => {
    const out = redactAt(doc, pointers, '/response');
    removedOut.push(...out.removed);
    return out.doc;
  });
}
