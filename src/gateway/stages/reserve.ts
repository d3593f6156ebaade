import { limitReason } from '../../limits/reasons.js';
import { decisionRefusal } from '../respond.js';
import { elapsedNs } from './util.js';
import type { Stage } from './context.js';

/**
 * Limits and budgets are taken atomically before the tool runs; then a presented approval is spent (single
 * use), only once the limits fit, so a call refused for a limit keeps its approval. Each is entered in the
 * call's ledger at once, so a failure anywhere later gives it back.
 */
export const reserve: Stage = async (ctx, deps) => {
  const t = performance.now();
  const { config } = deps;
  const decision = ctx.decision!;
  const revision = (ctx.engine ?? ctx.runtime!.engine).info.revision;
  // Limits and the approval are taken at the time they are taken: the evaluation (or a queue before it) took a while.
  const reserved = await config.limits.reserve(decision.obligations.limits, ctx.decisionId, config.now());
  ctx.timers.timer_limits_ns = elapsedNs(t);
  if (!reserved.ok) {
    const reasons = [limitReason(reserved)];
    return { kind: 'refuse', refusal: decisionRefusal('deny', reasons, ctx.decisionId, revision, reserved.cause === 'limit' ? { retryAfterS: reserved.retryAfterS } : {}), outcome: 'deny', reasons };
  }
  const reservation = reserved.reservation;
  ctx.acquired.add('limit reservation', () => config.limits.release(reservation));
  // The call settles the reservation itself once it ran (enforce); until then it is the ledger's.
  ctx.reservation = reservation;

  const approval = ctx.approval;
  if (approval?.status !== 'approved') return;
  const id = approval.id;
  // Entered before the attempt: if consume() throws after spending it (a lost reply), restore() gives it back only
  // if this call is the one that spent it.
  ctx.acquired.add('spent approval', () => config.approvals.restore(id, ctx.decisionId));
  const spent = await config.approvals.consume(id, ctx.binding!, config.now(), ctx.decisionId);
  if (spent.status !== 'approved') {
    const message = spent.status === 'expired'
      ? 'The approval expired while the call was being decided; nothing was executed. Retry without the header to request a new one.'
      : 'The approval was spent by another call just now; each approval covers one call. Retry without the header to request a new one.';
    const reasons = [{ code: `approval_${spent.status === 'unknown' ? 'invalid' : spent.status}`, message }];
    return { kind: 'refuse', refusal: decisionRefusal('deny', reasons, ctx.decisionId, revision), outcome: 'deny', reasons };
  }
};
