import type { NextFunction, Request } from 'express';
import { ToolgateError, UnavailableError } from '../../errors.js';
import type { Reason } from '../../policy/index.js';
import * as A from '../../telemetry/attributes.js';
import { failSpan } from '../../telemetry/decision-span.js';
import { DECISION_ID_HEADER, errorRefusal, sendRefusal } from '../respond.js';
import { settleClaim } from './claim.js';
import { recordAllowed, recordDecision } from './record.js';
import type { CallContext, GatewayDeps, Stage, Stop } from './context.js';
import { largeBody } from './util.js';
import { yieldToLoop } from '../../event-loop.js';

/**
 * Runs the stages in order until one stops the request; a thrown error stops it as a coded refusal. A call with a
 * claim (claim.ts) runs only the stages in `onClaim` before its signature is proven: the claim is settled in line
 * before any other stage runs, before a stop is acted upon and before the path ends, so that whatever a stage added
 * later, nothing past those stages ever sees an unproven agent, and a forged call always ends as identify would end it.
 * A call with a large body lets the event loop run between its stages.
 */
export async function runStages(ctx: CallContext, deps: GatewayDeps, stages: readonly Stage[], onClaim: ReadonlySet<Stage> = new Set()): Promise<Stop | undefined> {
  for (const stage of stages) {
    let stop: Stop | void;
    try {
      if (ctx.claim && !onClaim.has(stage)) stop = await settleClaim(ctx, deps);
      stop ??= await stage(ctx, deps);
    } catch (error) {
      stop = errorStop(ctx, error);
    }
    if (stop) return proven(ctx, deps, stop);
    // Each stage of a large call passes over its whole body (LARGE_BODY_BYTES): timers and other requests run
    // between them, so the loop is held by one pass at a time (on a 1 MiB body: the parse, then the digest, ...).
    if (largeBody(ctx)) await yieldToLoop();
  }
  return proven(ctx, deps, undefined);
}

/** `stop`, once any claim left is settled in line; the claim's own refusal (or failure) instead when it does not hold. */
async function proven(ctx: CallContext, deps: GatewayDeps, stop: Stop | undefined): Promise<Stop | undefined> {
  if (!ctx.claim) return stop;
  try {
    return (await settleClaim(ctx, deps)) ?? stop;
  } catch (error) {
    return errorStop(ctx, error);
  }
}

/** A thrown error as a refusal: a ToolgateError keeps its code; anything else is the gateway's internal_error. */
export function errorStop(ctx: CallContext, error: unknown): Stop {
  const coded = error instanceof ToolgateError ? error : new UnavailableError('internal_error', 'The gateway failed while deciding; nothing was executed. Retry, and report the decision id if it persists.', { cause: error });
  const bad = coded.kind === 'bad_request';
  return { kind: 'refuse', refusal: errorRefusal(coded, ctx.decisionId), outcome: bad ? 'invalid' : 'error', reasons: [{ code: coded.reason, message: coded.message }], ...(bad ? {} : { error }) };
}

/** Ends the decision span and counts the decision. */
export function finish(ctx: CallContext, deps: GatewayDeps, outcome: string, reasons: readonly Reason[], error?: unknown): void {
  const { span, route } = ctx;
  if (ctx.runtime) span.setAttribute(A.ATTR_POLICY_REVISION, (ctx.engine ?? ctx.runtime.engine).info.revision);
  span.setAttribute(A.ATTR_DECISION_OUTCOME, outcome);
  span.setAttribute(A.ATTR_DECISION_REASONS, reasons.map((r) => r.code));
  if (error) failSpan(span, error);
  span.end();
  const tool = ctx.call?.tool ?? (route.kind === 'http' ? route.tool : 'mcp');
  deps.metrics.decisions.add(1, { outcome, tool });
  deps.metrics.duration.record((performance.now() - ctx.started) / 1000, { outcome, tool });
}

/**
 * The one way a request that does not reach the service ends: everything the call acquired is given back (once),
 * the refusal is recorded — a failed record is logged, never turned into an allow — and answered.
 */
export async function refuse(ctx: CallContext, deps: GatewayDeps, stop: Extract<Stop, { kind: 'refuse' }>): Promise<void> {
  await ctx.acquired.undo(deps.logger, ctx.decisionId);
  try {
    await recordDecision(ctx, deps, stop.outcome, stop.reasons);
  } catch (auditError) {
    deps.logger.error('audit record failed for a refusal', { decisionId: ctx.decisionId, error: String(auditError) });
  }
  finish(ctx, deps, stop.outcome, stop.reasons, stop.error);
  const mcp = ctx.route.kind === 'mcp' || ctx.route.kind === 'mcp-session';
  sendRefusal(ctx.res, ctx.decisionId, stop.refusal, ctx.call ?? (mcp ? { protocol: 'mcp', rpcId: ctx.message?.rpcId ?? stop.refusal.rpcId ?? null } : undefined));
}

/**
 * Lets a signed request through without a policy decision (an MCP message other than tools/call, a session's
 * GET or DELETE), recorded as allowed before the service sees it.
 */
export async function passThrough(ctx: CallContext, deps: GatewayDeps, stop: Extract<Stop, { kind: 'pass' }>, admit: (req: Request) => void, next: NextFunction): Promise<void> {
  try {
    await recordAllowed(ctx, deps, [stop.reason]);
  } catch (error) {
    return refuse(ctx, deps, errorStop(ctx, error) as Extract<Stop, { kind: 'refuse' }>);
  }
  finish(ctx, deps, 'allow', [stop.reason]);
  ctx.res.setHeader(DECISION_ID_HEADER, ctx.decisionId);
  admit(ctx.req);
  if (stop.body !== undefined) setBody(ctx.req, stop.body);
  next();
}

/** Hands the parsed body to later handlers and tells body-parser it has been read. */
export function setBody(req: Request, body: unknown): void {
  req.body = body;
  (req as { _body?: boolean })._body = true;
}
