import { expect } from 'vitest';
import { AgentClient, type ToolResult } from '../../src/agent/client.js';
import { createSignedFetch } from '../../src/agent/signed-fetch.js';
import type { Jwk } from '../../src/identity/jwk.js';

export type Protocol = 'http' | 'mcp';

/** Wednesday 10:00 in New York: inside the demo policy's market hours. */
export const MARKET_OPEN = Date.parse('2026-11-25T15:00:00Z');

/**
 * A call's outcome as the agent sees it, the same whether it went over plain HTTP or MCP: `status` is the plain-HTTP
 * contract's status for that outcome (MCP answers a policy's refusal with HTTP 200 and a tool result `isError:
 * true`; `raw.status` is the HTTP status actually sent).
 */
export interface Outcome {
  readonly status: number;
  readonly outcome: 'allow' | 'deny' | 'approval_required' | 'unauthenticated' | 'other';
  readonly codes: string[];
  readonly result: unknown;
  readonly approvalId?: string;
  readonly decisionId: string | null;
  readonly raw: ToolResult;
}

/** The plain-HTTP status of an MCP answer: a refusal read from the CallToolResult's decision body. */
function mcpStatus(r: ToolResult, decision: unknown): number {
  if (r.status !== 200) return r.status;
  if (decision === 'approval_required') return 202;
  if (decision === 'deny') return r.headers.has('retry-after') ? 429 : 403;
  return 200;
}

export function normalize(r: ToolResult, protocol: Protocol): Outcome {
  let body = r.body as Record<string, unknown>;
  let result: unknown = body;
  let status = r.status;
  if (protocol === 'mcp') {
    const rpc = body?.result as { structuredContent?: Record<string, unknown>; isError?: boolean } | undefined;
    if (body && 'error' in body) body = (body.error as { data: Record<string, unknown> }).data;
    else if (rpc?.isError && typeof rpc.structuredContent?.decision === 'string') body = rpc.structuredContent;
    else result = rpc?.structuredContent;
    status = mcpStatus(r, body?.decision);
  }
  const reasons = (body?.reasons as { code: string }[] | undefined) ?? [];
  const outcome = status === 401 ? 'unauthenticated' : status === 202 ? 'approval_required' : status === 403 || status === 429 ? 'deny' : status === 200 ? 'allow' : 'other';
  const approvalId = (body?.approval as { id?: string } | undefined)?.id;
  return { status, outcome, codes: reasons.map((x) => x.code), result, decisionId: r.decisionId, raw: r, ...(approvalId ? { approvalId } : {}) };
}

/** An agent that calls tools over either protocol and reports a normalized outcome. */
export function agent(baseUrl: string, key: Jwk) {
  const client = new AgentClient({ baseUrl, privateJwk: key });
  return async (tool: string, args: Record<string, unknown>, protocol: Protocol = 'http', headers: Record<string, string> = {}): Promise<Outcome> =>
    normalize(protocol === 'mcp' ? await client.callMcp(tool, args, headers) : await client.callTool(tool, args, headers), protocol);
}

/** A person's signed request to the gateway's own endpoints (approvals, uploads). */
export function person(baseUrl: string, key: Jwk) {
  const signed = createSignedFetch({ privateJwk: key });
  return async (method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}) => {
    const res = await signed(`${baseUrl}${path}`, { method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
}

export function expectOutcome(o: Outcome, status: number, codes: readonly string[] = []): void {
  const body = JSON.stringify(o.raw.body);
  expect(o.status, body).toBe(status);
  // Over MCP a policy's refusal is data the client reads (HTTP 200), never an HTTP error the SDK would swallow.
  if ((o.raw.body as { jsonrpc?: unknown } | null)?.jsonrpc !== undefined && [202, 403, 429].includes(status)) expect(o.raw.status, body).toBe(200);
  for (const c of codes) expect(o.codes, body).toContain(c);
}
