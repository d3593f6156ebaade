import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { DetectMemo } from '../classify/detectors.js';
import { mask, SECRET_CLASSES, type Erasure } from '../classify/mask.js';
import type { Decision, Finding, PolicyInfo, PolicyInput, Reason } from '../policy/types.js';
import { AUDIT_SCHEMA, type AuditOutcome, type UnchainedEvent } from './types.js';
import { DECISION_ENTRYPOINT } from '../policy/engine.js';

export interface DecisionEventParts {
  readonly decisionId: string;
  readonly timestamp: string;
  readonly input: PolicyInput | null;
  readonly decision: Decision | null;
  readonly outcome: AuditOutcome;
  readonly reasons: readonly Reason[];
  readonly policy: PolicyInfo;
  readonly labels: { readonly id: string; readonly version: string; readonly environment: string };
  readonly traceId: string | null;
  readonly spanId: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly request: { readonly method: string; readonly path: string; readonly bodySha256: string };
  /** Fallbacks when there is no input (bad request, unauthenticated before extraction). */
  readonly tool?: { readonly name: string | null; readonly protocol: 'http' | 'mcp' | null };
  /** The agent when there is no input: claimed (unauthenticated) or verified (refused before the input existed). */
  readonly agent?: { readonly scheme: string; readonly keyId: string | null; readonly id?: string; readonly thumbprint?: string | null; readonly verified?: boolean };
  /** What the input's scan found in long strings of the arguments: masking them does not scan them again. */
  readonly memo?: DetectMemo;
}


export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** RFC 3339 with nanoseconds, as OPA's decision logs write it. */
export function nanoTimestamp(epochMs: number, hrFraction: bigint): string {
  const iso = new Date(epochMs).toISOString();
  const ns = (BigInt(epochMs % 1000) * 1_000_000n + (hrFraction % 1_000_000n)).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${ns}Z`;
}

/**
 * Builds the decision event with its input masked: policy redaction pointers are erased and built-in detectors
 * mask credentials, before anything leaves the process. What changed is listed in `erased` and `masked`.
 */
export function decisionEvent(p: DecisionEventParts): UnchainedEvent {
  const input = p.input;
  const pointers = p.decision ? p.decision.obligations.redact.request.map((ptr) => (ptr.startsWith('/input') ? ptr : `/input${ptr}`)) : [];
  // The gateway already scanned the arguments: detectors run again only where they found a credential.
  const secretsAt = input ? new Set(input.findings.secrets.map((f) => `/input${f.pointer}`)) : undefined;
  // A secret finding in a member name points at its object: masking there masks the name.
  const masked = input ? mask(input, '/input', { pointers, classes: SECRET_CLASSES, ...(secretsAt ? { only: secretsAt } : {}), ...(p.memo ? { memo: p.memo } : {}) }) : null;
  const erasures = masked?.erased ?? [];
  const erased = erasures.filter((e) => e.types.includes('removed')).map((e) => e.pointer);
  const maskedPointers = erasures.filter((e) => !e.types.includes('removed')).map((e) => e.pointer);
  // A masked name may sit on the path of other pointers the event keeps (findings below that member, redaction
  // pointers): they are recorded as they lead in the masked input, never with the credential in them.
  const renamer = masked && erasures.some((e) => e.in === 'name') ? masked : null;
  const inMasked = (ptr: string) => (ptr.startsWith('/input') ? renamer!.pointerOf(ptr) : renamer!.pointerOf(`/input${ptr}`).slice('/input'.length));
  if (renamer) renameFindings(renamer.value as { findings: PolicyInput['findings'] }, inMasked);
  const decision = p.decision && renamer ? renameRedactions(p.decision, inMasked) : p.decision;
  // Policy messages may quote arguments: when the arguments held a credential (or are unknown), mask them too;
  // a credential in a member name may be quoted as part of a pointer, escaped so that no detector sees it.
  const quoteRisk = !input || input.findings.secrets.length > 0;
  const scrub = (list: readonly Reason[]) => (renamer ? list.map((r) => ({ ...r, message: renamer.scrub(r.message) })) : list);
  const maskedResult = decision && quoteRisk ? (mask(decision, '/result', { classes: SECRET_CLASSES }).value as Decision) : decision;
  const result = maskedResult && renamer ? { ...maskedResult, reasons: scrub(maskedResult.reasons) } : maskedResult;
  const reasons = scrub(quoteRisk ? (mask(p.reasons, '/reasons', { classes: SECRET_CLASSES }).value as Reason[]) : p.reasons);
  return {
    schema: AUDIT_SCHEMA,
    type: 'decision',
    decision_id: p.decisionId,
    timestamp: p.timestamp,
    path: DECISION_ENTRYPOINT,
    input: masked?.value ?? null,
    result,
    bundles: { [p.policy.bundleName]: { revision: p.policy.revision } },
    erased,
    masked: maskedPointers,
    metrics: p.metrics,
    trace_id: p.traceId,
    span_id: p.spanId,
    labels: p.labels,
    agent: input
      ? { id: input.agent.id, scheme: input.agent.scheme, verified: input.agent.verified, key_id: input.agent.key_id, thumbprint: input.agent.thumbprint }
      : { id: p.agent?.id ?? null, scheme: p.agent?.scheme ?? 'none', verified: p.agent?.verified ?? false, key_id: p.agent?.keyId ?? null, thumbprint: p.agent?.thumbprint ?? null },
    // An MCP call names the digest of the tool definition it was decided with: a changed definition shows.
    tool: input
      ? { name: input.tool.name, protocol: input.tool.protocol, ...(input.tool.definition_sha256 !== undefined ? { definition_sha256: input.tool.definition_sha256 } : {}) }
      : (p.tool ?? { name: null, protocol: null }),
    outcome: p.outcome,
    reasons,
    policy: { revision: p.policy.revision, sha256: p.policy.sha256 },
    request: {
      method: p.request.method,
      path: p.request.path,
      body_sha256: p.request.bodySha256,
      args_sha256: input ? sha256Hex(canonicalJson(input.args)) : null,
      attachments: input ? input.resources.attachments.map((a) => ({ id: a.id, sha256: a.sha256 ?? null, size: a.size ?? null })) : [],
    },
    response: null,
    approval: input?.approval ?? null,
    break_glass: input?.break_glass ?? null,
  };
}

/** Rewrites the (copied) input's finding pointers in place. */
function renameFindings(input: { findings: PolicyInput['findings'] }, rename: (pointer: string) => string): void {
  const each = (list: readonly Finding[]) => list.map((f) => ({ ...f, pointer: rename(f.pointer) }));
  input.findings = { secrets: each(input.findings.secrets), pii: each(input.findings.pii) };
}

function renameRedactions(decision: Decision, rename: (pointer: string) => string): Decision {
  const redact = decision.obligations.redact;
  return { ...decision, obligations: { ...decision.obligations, redact: { ...redact, request: redact.request.map(rename) } } };
}

/**
 * The completion event that follows an executed call, linked by decision_id. `hiddenTools`: for a tools/list let
 * through, the tools the policy hid from the caller (see AuditEvent.hidden_tools).
 */
export function completionEvent(decision: UnchainedEvent, status: number, redacted: readonly Erasure[], timestamp: string, durationMs: number, hiddenTools?: readonly string[]): UnchainedEvent {
  return {
    ...decision,
    type: 'completion',
    timestamp,
    input: null,
    erased: [],
    masked: [],
    metrics: { timer_tool_ms: durationMs },
    response: { status, redacted: redacted.map((r) => ({ pointer: r.pointer, types: [...r.types] })) },
    ...(hiddenTools ? { hidden_tools: [...hiddenTools] } : {}),
  };
}

/**
 * A human's verdict on an approval, linked to the decision that asked for it (`decision_id`). `agent` is the
 * approver; `approval` carries the record (status, binding, who decided, when), never the arguments.
 */
export function approvalEvent(
  record: { id: string; status: string; agent: string; tool: string; binding: string; args_sha256: string; decision_id: string; decided_by?: string; decided_at?: string; expires_at: string; comment?: string },
  approver: { id: string; scheme: string; keyId: string; thumbprint: string },
  p: Pick<DecisionEventParts, 'timestamp' | 'policy' | 'labels'>,
): UnchainedEvent {
  const approved = record.status === 'approved';
  return {
    schema: AUDIT_SCHEMA,
    type: 'approval',
    decision_id: record.decision_id,
    timestamp: p.timestamp,
    path: DECISION_ENTRYPOINT,
    input: null,
    result: null,
    bundles: { [p.policy.bundleName]: { revision: p.policy.revision } },
    erased: [],
    masked: [],
    metrics: {},
    trace_id: null,
    span_id: null,
    labels: p.labels,
    agent: { id: approver.id, scheme: approver.scheme, verified: true, key_id: approver.keyId, thumbprint: approver.thumbprint },
    tool: { name: record.tool, protocol: null },
    outcome: approved ? 'allow' : 'deny',
    reasons: [{ code: approved ? 'approval_granted' : 'approval_refused', message: `${approver.id} ${approved ? 'approved' : 'denied'} approval ${record.id} requested by ${record.agent}.` }],
    policy: { revision: p.policy.revision, sha256: p.policy.sha256 },
    request: { method: 'POST', path: `/approvals/${record.id}/${approved ? 'approve' : 'deny'}`, body_sha256: sha256Hex(''), args_sha256: record.args_sha256, attachments: [] },
    response: null,
    approval: { id: record.id, status: record.status, requested_by: record.agent, binding: record.binding, decided_by: record.decided_by ?? approver.id, decided_at: record.decided_at ?? null, expires_at: record.expires_at, comment: record.comment ?? null },
    break_glass: null,
  };
}
