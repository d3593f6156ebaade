import { APPROVAL_HEADER } from '../../approvals/index.js';
import { BREAK_GLASS_HEADER } from '../../breakglass/index.js';
import { signatureCheckPlacement } from '../../identity/check-placement.js';
import { namesAttachments } from '../../uploads/resolve.js';
import { IdentityError, type PendingAgent, type VerifiedAgent } from '../../identity/types.js';
import type { CallContext, Claim, GatewayDeps, Stop } from './context.js';
import { identityRefusal, markVerified } from './identity-outcome.js';

/*
 * Claims: a call whose Ed25519 signature is checked in the evaluator thread that decides it (TOOLGATE_SIGNATURE_CHECK=
 * evaluator), in the round trip the call makes anyway, instead of on the event loop: after K's bench, the check
 * cost the loaded event loop 75-150 µs a call, more than any other part of the request path.
 *
 * Until the check, `ctx.agent` is only a claim. What runs on a claim is bounded by construction:
 * - only the stages the request path names as running before the proof (middleware.ts) run on it; the runner settles
 *   the claim here, in line, before any other stage, and before any stop is acted upon (outcome.ts), so nothing
 *   reserves, records, answers or executes for an unproven agent;
 * - only calls whose stages before the decision touch no store are deferred (`deferrable`): HTTP tool calls (MCP's
 *   write sessions and request states), no approval and no break-glass token presented (the approval store, the
 *   token's check), no attachments named (the upload store), and a body small enough that the detectors' pass over
 *   it costs less than the check itself; what runs on a claim is then the input's construction in memory;
 * - the replay key is recorded only once the proof held, and only while the signature is still valid
 *   (verify-signatures.ts `remember`), so a copy that waited in the queue past the original's expiry is refused;
 * - the thread checks the proof before it evaluates: a forged call is never evaluated;
 * - when the proof fails, every field a stage set on the claim is taken back, so the refusal, its audit event and
 *   its span are those of a call refused by the identity stage.
 */

/** Bodies up to this many bytes may be scanned before their signature is checked: about 10 µs of detectors. */
export const DEFER_MAX_BODY_BYTES = 16 * 1024;

/** Whether this call's signature may be checked in the evaluator thread (see the top of this file). */
export function deferrable(ctx: CallContext, deps: GatewayDeps): boolean {
  const { config } = deps;
  const runtime = ctx.runtime;
  return (
    signatureCheckPlacement() === 'evaluator' &&
    typeof config.verifier.prepare === 'function' &&
    ctx.route.kind === 'http' &&
    (ctx.raw?.length ?? 0) <= DEFER_MAX_BODY_BYTES &&
    ctx.req.headers[APPROVAL_HEADER] === undefined &&
    ctx.req.headers[BREAK_GLASS_HEADER] === undefined &&
    ctx.call !== undefined &&
    !namesAttachments(ctx.call.args) &&
    config.decisionPoint === undefined &&
    runtime !== undefined &&
    runtime.shadow === undefined &&
    runtime.engine.checksProofs
  );
}

/**
 * The evaluator queue a claim waits in (the pool serves queues in turn): its claimed agent's, one per address the
 * call came from. A claim is queued before its check, so were it keyed by the claimed agent alone, a flood of
 * forgeries naming one agent's key would line up ahead of that agent's genuine calls, each behind a turn of every
 * other queue (another agent's slow evaluations). The connection's address is one thing a forger cannot borrow.
 * Behind a proxy every caller has the proxy's address, and an agent's claims share one queue again.
 */
export function claimLane(agentId: string, remoteAddress: string | undefined): string {
  return `${agentId}\u0000${remoteAddress ?? ''}`;
}

export function makeClaim(ctx: CallContext, pending: PendingAgent): void {
  ctx.claim = { pending, fields: new Set(Object.keys(ctx)), timers: new Set(Object.keys(ctx.timers)) };
  ctx.agent = pending.claim;
}

/**
 * Ends the claim: `held` is the evaluator thread's verdict on the proof, or undefined to check it here. A proof that
 * holds is settled (its replay key recorded: a replay is refused) and the agent is verified; one that does not
 * takes back what was set on the claim and answers as the identity stage would have. Errors other than the
 * identity's (the replay store down) are thrown, with the claim taken back as well.
 *
 * The thread's "does not hold" is not final: it is checked again here, in line, before anything is refused. A
 * genuine call was refused as signature_invalid by the thread's verdict in 2 of 4 bench-harness soaks run beside
 * other test files (the refused call's own headers verified in the load generator), cause not found; the in-line
 * check is the `inline` placement's own, so a refusal is never less right than that placement's. A forgery pays one
 * verify on the event loop for it, as under `inline`. When the in-line check holds, the claim is verified here and
 * the caller decides the call anew (decide.ts).
 */
export async function settleClaim(ctx: CallContext, deps: GatewayDeps, held?: boolean): Promise<Stop | undefined> {
  const claim = ctx.claim;
  if (!claim) return undefined;
  const { pending } = claim;
  const where = held === undefined ? 'gateway' : 'evaluator';
  let agent: VerifiedAgent;
  try {
    agent = held === true ? await pending.settle() : await pending.verifyHere();
  } catch (error) {
    takeBack(ctx, claim);
    if (error instanceof IdentityError) return identityRefusal(ctx, deps, error, where);
    throw error;
  }
  delete ctx.claim;
  ctx.agent = agent;
  markVerified(ctx, held === true ? 'evaluator' : 'gateway');
  return undefined;
}

/** Every field and timer set since the claim was made, and the claim itself, are gone: as if identify had refused. */
function takeBack(ctx: CallContext, claim: Claim): void {
  const fields = ctx as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!claim.fields.has(key)) delete fields[key];
  for (const key of Object.keys(ctx.timers)) if (!claim.timers.has(key)) delete ctx.timers[key];
  delete ctx.claim;
  delete ctx.agent;
}
