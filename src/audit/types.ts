import type { Decision, Reason, ShadowVerdict, ToolProtocol } from '../policy/types.js';

/**
 * The schema new events are written with. v2 signs checkpoints: only the last event of each durable batch carries
 * `chain.sig`, which through the `prev` links covers every earlier event of its chain. v1 events (every event
 * signed) are still verified.
 */
export const AUDIT_SCHEMA = 'toolgate.audit/v2';
export const AUDIT_SCHEMA_V1 = 'toolgate.audit/v1';
export type AuditSchema = typeof AUDIT_SCHEMA | typeof AUDIT_SCHEMA_V1;
export const DEFAULT_AUDIT_TOPIC = 'toolgate.audit.v1';

/** What an event records: a decision, the completion of an allowed call, or a human's verdict on an approval. */
export type AuditEventType = 'decision' | 'completion' | 'approval';

/** `unauthenticated`, `invalid` (bad request) and `error` (fail-closed) are decisions the policy never saw. */
export type AuditOutcome = Decision['outcome'] | 'unauthenticated' | 'invalid' | 'error';

export interface ChainLink {
  /** Gateway instance id: one chain per instance and epoch. */
  readonly instance: string;
  /** Start time of the chain (one per process start unless the sink resumes the previous chain). */
  readonly epoch: string;
  readonly seq: number;
  /** `hash` of the previous event in this chain, or 64 zeros for the first. */
  readonly prev: string;
  /** SHA-256 (hex) over `prev` and the canonical JSON of the event without `chain.hash` and `chain.sig`. */
  readonly hash: string;
  /**
   * Ed25519 signature (base64url) of `hash` by the gateway's audit key. v1: on every event. v2: on the last event
   * of each durable batch (a checkpoint), covering it and, through the links, every event before it.
   */
  readonly sig?: string;
  /** RFC 7638 thumbprint of the gateway's audit public key. */
  readonly key_id: string;
}

/**
 * One audit event (JSON Schema: schema/audit-event.v1.json, both versions). A superset of OPA's decision-log event
 * (decision_id, timestamp, path, input, result, bundles, erased, masked, metrics, labels) plus toolgate's members.
 */
export interface AuditEvent {
  readonly schema: AuditSchema;
  readonly type: AuditEventType;
  readonly decision_id: string;
  readonly timestamp: string;
  readonly path: string;
  readonly input: unknown;
  readonly result: Decision | null;
  readonly bundles: Readonly<Record<string, { readonly revision: string }>>;
  readonly erased: readonly string[];
  readonly masked: readonly string[];
  readonly metrics: Readonly<Record<string, number>>;
  readonly trace_id: string | null;
  readonly span_id: string | null;
  readonly labels: { readonly id: string; readonly version: string; readonly environment: string };
  readonly agent: {
    readonly id: string | null;
    readonly scheme: string;
    readonly verified: boolean;
    readonly key_id: string | null;
    readonly thumbprint: string | null;
  };
  readonly tool: { readonly name: string | null; readonly protocol: ToolProtocol | null };
  readonly outcome: AuditOutcome;
  readonly reasons: readonly Reason[];
  readonly policy: { readonly revision: string; readonly sha256: string };
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly body_sha256: string;
    readonly args_sha256: string | null;
    readonly attachments: readonly { readonly id: string; readonly sha256: string | null; readonly size: number | null }[];
  };
  /** On completion events: the tool's status and what redaction removed (pointers and detector types, never values). */
  readonly response: { readonly status: number; readonly redacted: readonly { readonly pointer: string; readonly types: readonly string[] }[] } | null;
  readonly approval: unknown;
  readonly break_glass: unknown;
  /** A shadow candidate's verdict on this decision (absent when no candidate evaluated it); never enforced. */
  readonly shadow?: ShadowVerdict;
  /**
   * On the completion event of an MCP tools/list: the tools the policy hid from the agent (empty when none was).
   * Absent when the list was not filtered, and on every other event.
   */
  readonly hidden_tools?: readonly string[];
  readonly chain: ChainLink;
}

export type UnchainedEvent = Omit<AuditEvent, 'chain'>;

/**
 * A torn last line set aside when a sink opened its file: a write cut short by a crash (never acknowledged, so no
 * call ran on it). The bytes are kept in `setAside`; the file continues from `offset`, its last complete event.
 */
export interface TornTail {
  /** The JSONL file that ended in the torn line. */
  readonly file: string;
  /** Sibling file (`<file>.torn-<timestamp>`) holding the cut bytes. */
  readonly setAside: string;
  /** Where the torn line started: the file's length after the cut. */
  readonly offset: number;
  readonly bytes: number;
  /** When it was set aside (RFC 3339). */
  readonly at: string;
}

/**
 * Where chained events go. `write` resolves only when the events are durable (fsync'd or acknowledged), and rejects
 * only when none of them was recorded: the chain then reuses their positions, so a failed write leaves no gap.
 */
export interface AuditSink {
  readonly name: string;
  open(): Promise<void>;
  write(events: readonly AuditEvent[]): Promise<void>;
  /**
   * Optional two-stage write for sinks whose durability has a second step (the spool with Kafka acknowledgements):
   * resolves once the events are recorded in order (their chain positions are taken, even if the second step
   * fails) with `acknowledged`, the second step. Rejects, like `write`, only when nothing was recorded.
   */
  append?(events: readonly AuditEvent[]): Promise<{ readonly acknowledged: Promise<void> }>;
  /** Torn last lines this sink set aside when it opened (see TornTail). */
  recovered?(): readonly TornTail[];
  /** The last event this sink holds for `instance`, so a restarted gateway can continue its chain. */
  lastEvent?(instance: string): Promise<AuditEvent | undefined>;
  /** Whether the sink can currently accept writes (for /readyz). */
  healthy(): boolean;
  close(): Promise<void>;
}
