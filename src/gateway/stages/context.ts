import type { Context, Span } from '@opentelemetry/api';
import type { Request, Response } from 'express';
import type { AuditLog, AuditOutcome, UnchainedEvent } from '../../audit/index.js';
import type { BreakGlassCheck } from '../../breakglass/index.js';
import type { DetectMemo } from '../../classify/detectors.js';
import type { McpMessage, ToolCall } from '../../extract/index.js';
import type { IdentityError, PendingAgent, RequestFacts, VerifiedAgent } from '../../identity/types.js';
import type { Logger } from '../../logger.js';
import type { ActivePolicy, ApprovalFacts, CanaryPolicy, Decision, PolicyEngine, PolicyInput, Reason, ShadowPolicy, ShadowVerdict, TimeFacts } from '../../policy/index.js';
import type { GatewayMetrics } from '../../telemetry/metrics.js';
import type { Reservation } from '../../limits/types.js';
import type { Configuration } from '../options.js';
import type { Refusal } from '../respond.js';
import type { Route } from '../routes.js';

/** What the gateway runs on once started: the active policy and the open audit log. */
export interface Runtime {
  /** The policy lifecycle: lease a revision for each decision (it may be swapped while the gateway runs). */
  readonly policy: ActivePolicy;
  /** The active revision's engine right now; a decision uses the engine it leased (CallContext.engine). */
  readonly engine: PolicyEngine;
  readonly audit: AuditLog;
  /** A candidate evaluated beside the active policy, never enforced (shadow mode). */
  readonly shadow?: ShadowPolicy;
  /** A candidate enforced for a share of agents (canary). */
  readonly canary?: CanaryPolicy;
  /** Time facts in the policy's timezone. */
  readonly clock: (nowMs: number) => TimeFacts;
}

/** Everything a stage may use besides the request: built once per gateway. */
export interface GatewayDeps {
  readonly config: Configuration;
  /** Undefined while starting or after a failed start (the `ready` stage refuses then). */
  readonly runtime: () => Runtime | undefined;
  readonly startError: () => unknown;
  readonly metrics: GatewayMetrics;
  readonly labels: { readonly id: string; readonly version: string; readonly environment: string };
  readonly logger: Logger;
}

/**
 * One request's state, filled in by the stages in request order. Fields a stage sets are read only by the
 * stages after it; nothing else keeps per-request state.
 */
export interface CallContext {
  readonly req: Request;
  readonly res: Response;
  readonly route: Exclude<Route, null>;
  /** The raw request target, as signed and as recorded. */
  readonly target: string;
  readonly decisionId: string;
  /**
   * The decision's time (epoch ms): the policy's clock facts, the audit timestamp, approval lookups. Read again once
   * the whole request has arrived (extract), so a body sent slowly cannot make a call be judged at the moment its
   * headers came (an approval past its expiry, a limit window gone by).
   */
  nowMs: number;
  readonly started: number;
  /** The decision span, opened on first use (after the extract stage has settled `parent`). */
  readonly span: Span;
  /** The caller's trace context: the HTTP `traceparent`, or an MCP message's `params._meta.traceparent`. */
  parent: Context;
  /** Stage timings in the audit event's `metrics` (OPA's timer_*_ns names). */
  readonly timers: Record<string, number>;
  /** What this call took that must be given back if it does not execute. */
  readonly acquired: Acquired;
  runtime?: Runtime;
  raw?: Buffer;
  bodySha256?: string;
  call?: ToolCall;
  /** An MCP message that is not a tool call. */
  message?: McpMessage;
  facts?: RequestFacts;
  /** The verified agent; while `claim` is set, only who the agent is if the claim's proof holds (claim.ts). */
  agent?: VerifiedAgent;
  /** A signature still to be checked: set by identify, ended by decide or by the stage runner (claim.ts). */
  claim?: Claim;
  identityError?: IdentityError;
  approvalHeader?: string;
  binding?: string;
  /** The approval came back in an MCP 2026-07-28 `params.requestState` (the gateway answers in kind). */
  viaRequestState?: boolean;
  /** The approval was the one this MCP session's user was sent to by URL elicitation (2025-11-25). */
  viaElicitation?: boolean;
  /** MCP calls: the digest of the tool's listed definition (null: never listed); part of an approval's binding. */
  definition?: string | null;
  approval?: ApprovalFacts | null;
  breakGlass?: BreakGlassCheck | null;
  input?: PolicyInput;
  /** What the detectors found in the arguments' long strings (the input stage's scan), for the masks after it. */
  detectMemo?: DetectMemo;
  /** The revision that decided this call (set by decide): its refusal, audit event and span name it. */
  engine?: PolicyEngine;
  decision?: Decision;
  /** The shadow candidate's verdict on this call, when one evaluated it. */
  shadow?: ShadowVerdict;
  /** Limits taken for this call: released by the ledger if it does not run, settled by enforce if it does. */
  reservation?: Reservation;
  /** The last decision event recorded (the completion event chains to it). */
  recorded?: UnchainedEvent;
}

/** A call whose signature is still to be checked, and what the context held then (claim.ts). */
export interface Claim {
  readonly pending: PendingAgent;
  /** The context's fields and timers when the claim was made: any other was set on the claim. */
  readonly fields: ReadonlySet<string>;
  readonly timers: ReadonlySet<string>;
}

/** A request that stops before the tool: refused, or let through without a policy decision (MCP). */
export type Stop =
  | { readonly kind: 'refuse'; readonly refusal: Refusal; readonly outcome: AuditOutcome; readonly reasons: readonly Reason[]; readonly error?: unknown }
  | { readonly kind: 'pass'; readonly reason: Reason; readonly body: unknown };

/** A stage: reads and fills the context; resolves a Stop to end the request path there, or nothing to go on. */
export type Stage = (ctx: CallContext, deps: GatewayDeps) => Promise<Stop | void>;

/**
 * What a call acquired (a limit reservation, a spent approval), with how to give it back. `undo()` gives back
 * everything, once, in reverse order, when the call does not execute; `keep()` hands it to the call (it ran).
 * Either happens at most once, whichever comes first.
 */
export class Acquired {
  readonly #undo: { what: string; give: () => Promise<unknown> }[] = [];
  #closed = false;

  add(what: string, give: () => Promise<unknown>): void {
    if (this.#closed) throw new Error(`acquired ${what} after the call was settled`);
    this.#undo.push({ what, give });
  }

  async undo(logger: Logger, decisionId: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { what, give } of this.#undo.reverse()) {
      try {
        await give();
      } catch (error) {
        // Nothing more to do here than say so: the store is down (its own 503s tell the callers).
        logger.error(`could not give back ${what} of a call that did not execute`, { decisionId, error: String(error) });
      }
    }
  }

  keep(): void {
    this.#closed = true;
  }

  get size(): number {
    return this.#undo.length;
  }
}
