import type { RequestHandler } from 'express';
import type { ApprovalRecord } from '../approvals/index.js';
import type { TornTail } from '../audit/index.js';
import type { ToolCall } from '../extract/index.js';
import type { ReplayStoreStats, VerifiedAgent } from '../identity/types.js';
import type { Decision, PolicyInput, PolicyStatus } from '../policy/index.js';
import type { PolicyControl } from '../policy/rollout.js';

/** What the tool route sees on `req.toolgate` after an allow. */
export interface ToolgateContext {
  readonly decisionId: string;
  readonly call: ToolCall;
  readonly decision: Decision;
  readonly agent: VerifiedAgent;
  readonly input: PolicyInput;
}

declare module 'express-serve-static-core' {
  interface Request {
    toolgate?: ToolgateContext;
  }
}

export interface Toolgate extends RequestHandler {
  /**
   * Wraps the tool routes so they are reachable only through the gate: mount it where the tools live,
   * `app.use('/tools', gate.tools(router))`. Every request that reaches `handler` is a `POST {toolsPath}/{tool}`
   * spelled exactly so, signed, allowed by the policy and durably recorded; anything else Express routes there
   * (another spelling, method or prefix) is refused and audited.
   */
  tools(handler: RequestHandler): RequestHandler;
  /**
   * Wraps the MCP endpoint the same way, for every method: `app.use('/mcp', gate.mcp(handler))`. POST carries
   * JSON-RPC (tools/call decided by the policy, other configured methods let through signed); GET (the session's
   * stream) and DELETE (end of session) must be signed by the agent that opened the session.
   */
  mcp(handler: RequestHandler): RequestHandler;
  /** Resolves when the policy is loaded and the audit path is open; rejects with the start-up error. */
  ready(): Promise<void>;
  /** Readiness for /readyz: policy loaded and audit path writable. */
  readiness(): { ready: boolean; policy: string | null; policyStatus?: PolicyStatus; candidates?: readonly (PolicyStatus & { readonly fraction: number })[]; audit: { sink: string; healthy: boolean; recovered: readonly TornTail[] } | null; replayStore?: ReplayStoreStats; error?: string };
  /** The loaded policy's revision (after ready). */
  readonly policyRevision: string | null;
  /**
   * Changes the shadow and canary candidates, promotes or rolls back, while the gateway runs (README, Policy
   * lifecycle). Calls wait for the start; a change applies from the next decision on and lasts until a restart.
   */
  readonly policyControl: PolicyControl;
  /** Records a human's verdict on an approval in the audit chain (pass as approvalsRouter's onDecision). */
  recordApproval(record: ApprovalRecord, approver: VerifiedAgent): Promise<void>;
  close(): Promise<void>;
}
