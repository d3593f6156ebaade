/**
 * Span attribute and metric names, in one place (STYLE.md habit 7).
 * `gen_ai.*` names follow the OpenTelemetry GenAI semantic conventions, which are still experimental upstream:
 * they are copied here rather than imported so a semconv release cannot rename them under us.
 */

// GenAI semantic conventions (experimental upstream).
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';

// toolgate's own.
export const ATTR_DECISION_ID = 'toolgate.decision.id';
export const ATTR_DECISION_OUTCOME = 'toolgate.decision.outcome';
export const ATTR_DECISION_REASONS = 'toolgate.decision.reasons';
export const ATTR_POLICY_REVISION = 'toolgate.policy.revision';
/** True when the canary candidate decided (and was enforced for) this call. */
export const ATTR_POLICY_CANARY = 'toolgate.policy.canary';
export const ATTR_IDENTITY_SCHEME = 'toolgate.identity.scheme';
export const ATTR_IDENTITY_VERIFIED = 'toolgate.identity.verified';
export const ATTR_IDENTITY_KEY_ID = 'toolgate.identity.key_id';
/** Where the request's signature was checked: `gateway` (the event loop) or `evaluator` (the thread that decided it). */
export const ATTR_IDENTITY_CHECKED_IN = 'toolgate.identity.checked_in';
export const ATTR_TOOL_PROTOCOL = 'toolgate.tool.protocol';
export const ATTR_GATEWAY_ID = 'toolgate.gateway.id';
export const ATTR_AUDIT_SEQ = 'toolgate.audit.seq';
/** Shadow mode: the candidate's revision, outcome, reason codes and whether it agrees with the enforced decision. */
export const ATTR_SHADOW_REVISION = 'toolgate.shadow.revision';
export const ATTR_SHADOW_OUTCOME = 'toolgate.shadow.outcome';
export const ATTR_SHADOW_REASONS = 'toolgate.shadow.reasons';
export const ATTR_SHADOW_AGREES = 'toolgate.shadow.agrees';

// Span names.
export const SPAN_AUTHORIZE = 'authorize';
export const SPAN_EXECUTE = 'execute_tool';

// Metric names (DESIGN.md).
export const METRIC_DECISIONS = 'toolgate.decisions';
export const METRIC_DECISION_DURATION = 'toolgate.decision.duration';
export const METRIC_IDENTITY_FAILURES = 'toolgate.identity.failures';
export const METRIC_AUDIT_SPOOL_DEPTH = 'toolgate.audit.spool.depth';
/** Policy revisions activated or refused, by `result` (activated, refused) and `reason` (a refusal's code). */
export const METRIC_POLICY_ACTIVATIONS = 'toolgate.policy.activations';
/** Shadow decisions that disagree with the enforced one, by `tool`, `outcome` (enforced) and `shadow_outcome`. */
export const METRIC_SHADOW_DISAGREEMENTS = 'toolgate.shadow.disagreements';

export const INSTRUMENTATION_NAME = 'toolgate';
