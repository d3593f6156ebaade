import { yieldToLoop } from '../../event-loop.js';
import { traceIds } from '../../telemetry/decision-span.js';
import { decisionEvent, nanoTimestamp, type AuditOutcome } from '../../audit/index.js';
import type { Reason } from '../../policy/index.js';
import { bodyDigest, elapsedNs, largeBody } from './util.js';
import type { CallContext, GatewayDeps, Stage } from './context.js';

/**
 * Records this request's decision event in the audit chain, with whatever the stages learned: the input when it
 * was built, otherwise the verified (or claimed) agent and the tool the route names.
 */
export async function recordDecision(ctx: CallContext, deps: GatewayDeps, outcome: AuditOutcome, reasons: readonly Reason[]): Promise<void> {
  const runtime = ctx.runtime ?? deps.runtime();
  if (!runtime) return;
  const { traceId, spanId } = traceIds(ctx.span);
  const { route, agent, call } = ctx;
  const event = decisionEvent({
    decisionId: ctx.decisionId,
    timestamp: nanoTimestamp(ctx.nowMs, process.hrtime.bigint()),
    input: ctx.input ?? null,
    decision: ctx.decision ?? null,
    outcome,
    reasons,
    // The revision that decided, when one did; else (refused before a decision) the one active now.
    policy: (ctx.engine ?? runtime.engine).info,
    labels: deps.labels,
    traceId,
    spanId,
    metrics: { ...ctx.timers }, // a snapshot: timers keep changing after the event is hashed
    request: { method: ctx.req.method, path: ctx.target, bodySha256: bodyDigest(ctx) },
    tool: call ? { name: call.tool, protocol: call.protocol } : { name: route.kind === 'http' ? route.tool : null, protocol: route.kind === 'mcp' || route.kind === 'mcp-session' ? 'mcp' : 'http' },
    agent: agent
      ? { id: agent.id, scheme: agent.scheme, keyId: agent.keyId, thumbprint: agent.thumbprint, verified: true }
      : { scheme: ctx.identityError?.claimed.scheme ?? 'none', keyId: ctx.identityError?.claimed.keyId ?? null },
    ...(ctx.detectMemo ? { memo: ctx.detectMemo } : {}),
  });
  const recorded = ctx.shadow ? { ...event, shadow: ctx.shadow } : event;
  ctx.recorded = recorded;
  // A large call's event is chained in a later turn than it is built (LARGE_BODY_BYTES): on a 1 MiB hostile body
  // the two halves held the loop 17-30 ms together, 9-13 ms each apart. Other requests' events may be chained first
  // meanwhile: the chain's order is the order events are recorded in.
  if (largeBody(ctx)) await yieldToLoop();
  await runtime.audit.record(recorded);
}

/**
 * An allowed request runs only once its decision is durable. With `audit.failClosed: false` (an explicit opt-out)
 * it runs anyway and the failure is logged.
 */
export async function recordAllowed(ctx: CallContext, deps: GatewayDeps, reasons: readonly Reason[]): Promise<void> {
  const t = performance.now();
  try {
    await recordDecision(ctx, deps, 'allow', reasons);
  } catch (error) {
    if (deps.config.failClosed) throw error;
    deps.logger.warn('audit path unavailable; executing because audit.failClosed is false', { decisionId: ctx.decisionId });
  }
  ctx.timers.timer_audit_ns = elapsedNs(t);
}

/** The stage form of recordAllowed for a decided tool call. */
export const record: Stage = async (ctx, deps) => {
  await recordAllowed(ctx, deps, ctx.decision!.reasons);
};
