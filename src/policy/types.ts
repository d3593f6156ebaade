import type { IdentityScheme } from '../identity/types.js';

/** `input` in Rego: everything a decision depends on, so it can be replayed from its audit event. */
export interface PolicyInput {
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly host: string;
    readonly body_sha256: string;
    readonly content_length: number;
  };
  readonly agent: {
    readonly verified: boolean;
    readonly scheme: IdentityScheme;
    readonly id: string | null;
    readonly key_id: string | null;
    readonly thumbprint: string | null;
    readonly signature_agent: string | null;
    readonly labels: Readonly<Record<string, string>>;
  };
  /**
   * The called tool. MCP calls add what the service's tools/list said of it: `annotations` (each hint with the
   * spec's default when absent; all defaults when the gateway has not seen the tool listed), `definition_sha256`
   * (null when unknown) and `definition_known`.
   */
  readonly tool: {
    readonly name: string;
    readonly protocol: ToolProtocol;
    readonly annotations?: Readonly<Record<'readOnlyHint' | 'destructiveHint' | 'idempotentHint' | 'openWorldHint', boolean>>;
    readonly definition_sha256?: string | null;
    readonly definition_known?: boolean;
  };
  readonly args: Readonly<Record<string, unknown>>;
  readonly resources: { readonly attachments: readonly AttachmentFacts[] };
  /** What the gateway's detectors found in `args` (pointers are JSON Pointers into the input). */
  readonly findings: { readonly secrets: readonly Finding[]; readonly pii: readonly Finding[] };
  /** Time facts in the policy's timezone, plus where the gateway runs. */
  readonly context: TimeFacts & { readonly environment: string; readonly gateway_id: string };
  readonly approval: ApprovalFacts | null;
  readonly break_glass: BreakGlassFacts | null;
}

/** Gateway time facts for the input: the policy never reads a clock itself, so decisions replay exactly. */
export interface TimeFacts {
  readonly now: string;
  readonly now_ms: number;
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
  readonly timezone: string;
}

export type ToolProtocol = 'http' | 'mcp';

export interface AttachmentFacts {
  readonly id: string;
  readonly found: boolean;
  readonly source?: string;
  readonly uploaded_by?: string;
  readonly uploaded_at?: string;
  readonly uploaded_at_ms?: number;
  readonly size?: number;
  readonly sha256?: string;
}

/**
 * One detector finding. In a string value, `pointer` is the string's; in a member name (`in: "name"`), it is the
 * object's that holds the member, so redacting or masking at `pointer` reaches the name too.
 */
export interface Finding {
  readonly type: string;
  readonly pointer: string;
  /** `name` when the finding is in a member name rather than a string value (absent then). */
  readonly in?: 'name';
}

export interface ApprovalFacts {
  readonly id: string;
  readonly status: 'approved' | 'denied' | 'expired' | 'used' | 'mismatch' | 'definition_changed' | 'unknown' | 'pending';
  readonly approved_by?: string;
}

export interface BreakGlassFacts {
  readonly valid: boolean;
  readonly who?: string;
  readonly why?: string;
  readonly until?: string;
  readonly scopes?: readonly string[];
  readonly error?: string;
  /** Which token (its id) and which admin key signed it: present whenever the signature verified, so the audit names the token. */
  readonly jti?: string;
  readonly kid?: string;
}

export type Outcome = 'allow' | 'deny' | 'approval_required';

export interface Reason {
  readonly code: string;
  readonly message: string;
}

export interface LimitObligation {
  readonly key: string;
  readonly kind: 'rate' | 'budget' | 'cooldown';
  readonly window_s: number;
  readonly max: number;
  readonly cost: number;
}

/** `data.toolgate.decision`, validated before the gateway acts on it. */
export interface Decision {
  readonly outcome: Outcome;
  readonly reasons: readonly Reason[];
  readonly obligations: {
    readonly limits: readonly LimitObligation[];
    readonly redact: { readonly request: readonly string[]; readonly response: readonly string[] };
    readonly audit: { readonly level: 'standard' | 'full' | 'critical' };
    readonly approval: { readonly ttl_s: number } | null;
  };
}

/**
 * A candidate revision's verdict on a call it did not decide (shadow mode): recorded beside the enforced decision,
 * never acted on. `outcome` is `error` when the candidate could not decide (its reason code says why).
 */
export interface ShadowVerdict {
  readonly revision: string;
  readonly outcome: Outcome | 'error';
  /** Reason codes, in the candidate's order. */
  readonly reasons: readonly string[];
  /** Same outcome and the same set of reason codes as the enforced decision. */
  readonly agrees: boolean;
}

/** What the gateway knows about the loaded policy bundle; recorded on every decision. */
export interface PolicyInfo {
  readonly revision: string;
  /** SHA-256 over policy.wasm and data.json as loaded. */
  readonly sha256: string;
  readonly bundleName: string;
}

/** How `PolicyEngine.decide` runs the policy. */
export interface PolicyEngineOptions {
  /**
   * Time one evaluation may run in its thread before the thread is stopped and the call fails closed with 503
   * `policy_timeout`. Default 500 ms: the demo policy needs about 60 µs for a usual call and 0.1-0.2 s for the
   * largest arguments the gateway accepts (10,000 values) on a shared 2 vCPU machine.
   */
  readonly timeoutMs?: number;
  /**
   * Evaluator threads (0-16), each evaluating one decision at a time. Default 2, so one runaway evaluation does not
   * hold up every other call while it runs out its budget. A thread adds about 0.2 ms of latency per decision and
   * takes about half the decision's event-loop time off the loop (README, Benchmarks). 0 evaluates on the event
   * loop with no time budget: a slow evaluation then freezes the gateway (for tools, tests and benchmarks).
   */
  readonly workers?: number;
}
