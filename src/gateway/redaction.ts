import type { Response } from 'express';
import type { Erasure } from '../classify/mask.js';
import { redactAt } from '../classify/redact.js';
import type { ToolCall } from '../extract/types.js';

/**
 * Rewrites the call's arguments in place of the parsed body (HTTP: the body is the arguments; MCP: params.arguments)
 * with redaction applied at the policy's pointers (relative to the input, e.g. `/args/content`).
 */
export function applyRequestRedaction(call: ToolCall, pointers: readonly string[]): Erasure[] {
  const relative = pointers.filter((p) => p.startsWith('/args/')).map((p) => p.slice('/args'.length));
  if (relative.length === 0) return [];
  const { doc, removed } = redactAt(call.args, relative, '/args');
  const args = doc as Record<string, unknown>;
  const mutable = call as { args: Record<string, unknown>; body: unknown };
  mutable.args = args;
  if (call.protocol === 'http') mutable.body = args;
  else mutable.body = { ...(call.body as Record<string, unknown>), params: { ...((call.body as { params: object }).params), arguments: args } };
  return removed;
}

/** Wraps res.json so the tool's JSON answer is redacted at `pointers` before it reaches the agent. */
export function redactResponse(res: Response, pointers: readonly string[], removedOut: Erasure[]): void {
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    const { doc, removed } = redactAt(body, pointers, '/response');
    removedOut.push(...removed);
    return json(doc);
  };
}

