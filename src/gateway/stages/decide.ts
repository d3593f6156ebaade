import { newApprovalRecord, type ApprovalRecord } from '../../approvals/index.js';
import { mask, SECRET_CLASSES } from '../../classify/mask.js';
import { UnavailableError } from '../../errors.js';
import { parseDecision, policyFor, ProofFailedError, shadowVerdict, startShadow, type Decision, type LimitObligation, type PolicyEngine, type PolicyInput } from '../../policy/index.js';
import * as A from '../../telemetry/attributes.js';
import { approvalUrl, inputRequiredResult, REQUEST_STATE_TTL_MS, wantsInputRequired } from '../mcp-approval.js';
import { URL_ELICITATION_VERSION, urlElicitationError } from '../mcp-elicitation.js';
import { SESSION_HEADER } from '../mcp-sessions.js';
import { decisionRefusal, type Refusal } from '../respond.js';
import { elapsedNs, headerValue } from './util.js';
import { claimLane, settleClaim } from './claim.js';
import type { CallContext, GatewayDeps, Stage, Stop } from './context.js';


/**
 * The policy decides (in an evaluator thread, within its time budget). A call that needs a person gets one
 * pending approval per exact call — a retry while it waits gets the same id — showing the approver everything
 * the tool would receive, credentials masked. Anything but allow stops here.
 */
export const decide: Stage = async (ctx, deps) => {
  const t = performance.now();
  const { config } = deps;
  // One revision decides the whole call, even if another is swapped in meanwhile: its engine stays open until
  // the lease is released, and the audit event and the refusal name it.
  const runtime = ctx.runtime!;
  const chosen = policyFor(runtime.policy, runtime.canary, ctx.input!.agent.id);
  const lease = chosen.policy.acquire();
  const engine = lease.engine;
  ctx.engine = engine;
  const call = ctx.call!;
  let decision: Decision;
  let shadow: ReturnType<typeof startShadow>;
  try {
    // A claim is proven in the evaluator thread before it evaluates, unless the decision is made elsewhere: then here.
    if (ctx.claim && (config.decisionPoint || runtime.shadow || !engine.checksProofs)) {
      const refused = await settleClaim(ctx, deps);
      if (refused) return refused;
    }
    // The candidate (shadow mode) evaluates the same input at the same time, in its own threads; it never throws.
    shadow = startShadow(runtime.shadow, ctx.input!);
    const decided = config.decisionPoint ? await askDecisionPoint(config.decisionPoint, ctx.input!) : await decideProving(ctx, deps, engine);
    if (!isDecision(decided)) return decided;
    decision = decided;
  } finally {
    lease.release();
  }
  ctx.decision = decision;
  ctx.timers.timer_rego_query_eval_ns = elapsedNs(t);
  // Awaited so the audit event carries the verdict: a candidate slower than the active policy delays the call, at
  // most by its time budget (policy.timeoutMs).
  if (shadow) recordShadow(ctx, deps, decision, await shadow);
  const revision = engine.info.revision;
  ctx.span.setAttribute(A.ATTR_POLICY_REVISION, revision);
  if (runtime.canary) ctx.span.setAttribute(A.ATTR_POLICY_CANARY, chosen.canary);

  if (decision.outcome === 'approval_required') {
    const approval = ctx.approval;
    let pending = approval?.status === 'pending' ? await config.approvals.get(approval.id) : null;
    if (!pending) {
      // Each new approval request is a record a person has to look at: an agent asks for at most so many an hour, so
      // one agent cannot fill the store or bury everyone else's requests in the approvers' queue.
      const asked = await config.limits.reserve([approvalRequestLimit(ctx.agent!.id)], `${ctx.decisionId}:approval`, config.now());
      if (!asked.ok) {
        const retryAfterS = asked.retryAfterS ?? APPROVAL_REQUESTS.window_s;
        const reasons = [{ code: 'approval_requests_limited', message: `Agent ${ctx.agent!.id} asked for ${APPROVAL_REQUESTS.max} approvals in the last hour, the most one agent may; nothing was executed and no approval was requested. Wait for the approvers to decide, then retry after ${retryAfterS} s.` }];
        return { kind: 'refuse', refusal: decisionRefusal('deny', reasons, ctx.decisionId, revision, { retryAfterS }), outcome: 'deny', reasons };
      }
      await config.limits.settle(asked.reservation);
      pending = newApprovalRecord({
        agent: ctx.agent!.id,
        tool: call.tool,
        args: call.args,
        reasons: decision.reasons,
        decisionId: ctx.decisionId,
        nowMs: ctx.nowMs,
        ...(decision.obligations.approval ? { ttlS: decision.obligations.approval.ttl_s } : {}),
        summary: JSON.stringify(mask(call.args, '/args', { classes: SECRET_CLASSES, ...(ctx.detectMemo ? { memo: ctx.detectMemo } : {}) }).value),
        definition: ctx.definition ?? null,
      });
      await config.approvals.create(pending);
    }
    const ticket = { id: pending.id, expires_at: pending.expires_at };
    const refusal = decisionRefusal('approval_required', decision.reasons, ctx.decisionId, revision, { approval: ticket });
    return { kind: 'refuse', refusal: withInputRequest(ctx, deps, refusal, pending), outcome: 'approval_required', reasons: decision.reasons };
  }
  if (decision.outcome !== 'allow') {
    const refusal = decisionRefusal(decision.outcome, decision.reasons, ctx.decisionId, revision);
    // A 2026-07-28 client came back before the approver decided: it is sent to the same approval page again.
    const waiting = (ctx.viaRequestState || ctx.viaElicitation) && ctx.approval?.status === 'pending' && decision.reasons.every((r) => r.code === 'approval_pending');
    const record = waiting ? await config.approvals.get(ctx.approval!.id) : null;
    const answer = record ? withInputRequest(ctx, deps, refusal, record) : refusal;
    return { kind: 'refuse', refusal: answer, outcome: decision.outcome, reasons: decision.reasons };
  }
  const glass = ctx.breakGlass;
  if (glass?.facts.valid && decision.reasons.some((r) => r.code === 'break_glass_used')) {
    ctx.span.addEvent('toolgate.break_glass', {
      'toolgate.break_glass.who': glass.facts.who ?? '',
      'toolgate.break_glass.why': glass.facts.why ?? '',
      'toolgate.break_glass.until': glass.facts.until ?? '',
      'toolgate.break_glass.jti': glass.payload?.jti ?? '',
    });
  }
};

/**
 * The engine's decision; with a claim (claim.ts), its proof is checked in the same round trip, before the thread
 * evaluates. A proof that fails is the identity refusal; one that holds is settled (a replay is refused) before the
 * decision counts.
 */
async function decideProving(ctx: CallContext, deps: GatewayDeps, engine: PolicyEngine): Promise<Decision | Stop> {
  const claim = ctx.claim;
  if (!claim) return engine.decide(ctx.input!);
  let decision: Decision;
  try {
    decision = await engine.decide(ctx.input!, claim.pending.proof, claimLane(claim.pending.claim.id, ctx.req.socket.remoteAddress));
  } catch (error) {
    if (!(error instanceof ProofFailedError)) throw error; // the stage runner settles the claim in line before it answers (outcome.ts)
    // The thread refused the proof: checked again in line (claim.ts), and only then refused.
    const refused = await settleClaim(ctx, deps, false);
    if (refused) return refused;
    deps.logger.warn('an evaluator thread refused a request signature that verifies in line; decided it again', { decision_id: ctx.decisionId, agent: ctx.agent?.id });
    return engine.decide(ctx.input!);
  }
  return (await settleClaim(ctx, deps, true)) ?? decision;
}

const isDecision = (value: Decision | Stop): value is Decision => !('kind' in value);

/** Puts the candidate's verdict on the span and the context (for the audit event) and counts a disagreement. */
function recordShadow(ctx: CallContext, deps: GatewayDeps, enforced: Decision, result: Parameters<typeof shadowVerdict>[1]): void {
  const verdict = shadowVerdict(enforced, result);
  ctx.shadow = verdict;
  ctx.span.setAttributes({
    [A.ATTR_SHADOW_REVISION]: verdict.revision,
    [A.ATTR_SHADOW_OUTCOME]: verdict.outcome,
    [A.ATTR_SHADOW_REASONS]: [...verdict.reasons],
    [A.ATTR_SHADOW_AGREES]: verdict.agrees,
  });
  if (!verdict.agrees) deps.metrics.shadowDisagreements.add(1, { tool: ctx.call!.tool, outcome: enforced.outcome, shadow_outcome: verdict.outcome });
}

/** An external decision point's answer, held to the same contract as the in-process engine's. */
async function askDecisionPoint(point: (input: PolicyInput) => Promise<unknown>, input: PolicyInput): Promise<Decision> {
  let raw: unknown;
  try {
    raw = await point(input);
  } catch (cause) {
    throw new UnavailableError('policy_unavailable', 'The external decision point did not answer; nothing was executed. Check the policy sidecar.', { cause });
  }
  if (raw === undefined) throw new UnavailableError('policy_undefined', 'The external decision point returned no decision for this input: check the policy it serves.');
  return parseDecision(raw);
}

/**
 * For an MCP client that can send its user to a URL, the refusal says so the MCP way: a 2026-07-28 request that
 * declares URL-mode elicitation gets the InputRequiredResult that sends the user to the approval and seals the call's
 * approval binding into the retry's requestState; a 2025-11-25 session that declared it at initialize gets the
 * URLElicitationRequiredError (-32042), and its retry of the same call is matched to the approval. Every other
 * client gets the refusal as it is.
 */
function withInputRequest(ctx: CallContext, deps: GatewayDeps, refusal: Refusal, approval: Pick<ApprovalRecord, 'id' | 'expires_at' | 'binding'>): Refusal {
  const call = ctx.call!;
  if (call.protocol !== 'mcp') return refusal;
  const version = headerValue(ctx.req.headers['mcp-protocol-version']);
  const session = headerValue(ctx.req.headers[SESSION_HEADER]);
  const mrtr = wantsInputRequired(call.body, version);
  const elicit = !mrtr && version !== undefined && version >= URL_ELICITATION_VERSION && deps.config.elicitations.capable(session);
  if (!mrtr && !elicit) return refusal;
  const ticket = { id: approval.id, expires_at: approval.expires_at };
  const binding = approval.binding; // the call's: a pending approval is found only by its exact binding
  const base = deps.config.publicUrl ?? `${ctx.req.protocol}://${ctx.req.get('host') ?? '127.0.0.1'}`;
  const url = approvalUrl(base, ticket.id);
  if (elicit) {
    deps.config.elicitations.remember(session!, ctx.agent!.id, binding, ticket.id);
    return { ...refusal, mcpError: urlElicitationError(url, ticket, refusal.body) };
  }
  const exp = Math.min(Date.parse(ticket.expires_at), ctx.nowMs + REQUEST_STATE_TTL_MS);
  const state = deps.config.requestStates.seal({ agent: ctx.agent!.id, tool: call.tool, binding, approval: ticket.id, exp });
  return { ...refusal, mcpResult: inputRequiredResult(url, ticket, state, refusal.body) };
}

/** How many new approval requests one agent may make: a rate limit in the limits store, shared by every instance. */
export const APPROVAL_REQUESTS = { max: 100, window_s: 3600 } as const;

function approvalRequestLimit(agent: string): LimitObligation {
  return { kind: 'rate', key: `approval-requests:agent:${agent}`, max: APPROVAL_REQUESTS.max, window_s: APPROVAL_REQUESTS.window_s, cost: 1 };
}
