import type { IdentityError } from '../../identity/types.js';
import * as A from '../../telemetry/attributes.js';
import { errorRefusal } from '../respond.js';
import type { CallContext, GatewayDeps, Stop } from './context.js';

/** Where a signature's arithmetic was checked: on the event loop, or in the evaluator thread (claim.ts). */
export type CheckedIn = 'gateway' | 'evaluator';

/** The refusal of a request that did not prove who sent it (here, or when its claim's proof failed). */
export function identityRefusal(ctx: CallContext, deps: GatewayDeps, error: IdentityError, where: CheckedIn): Stop {
  const { span } = ctx;
  ctx.identityError = error;
  span.setAttribute(A.ATTR_IDENTITY_VERIFIED, false);
  span.setAttribute(A.ATTR_IDENTITY_CHECKED_IN, where);
  span.setAttribute(A.ATTR_IDENTITY_SCHEME, error.claimed.scheme);
  if (error.claimed.keyId) span.setAttribute(A.ATTR_IDENTITY_KEY_ID, error.claimed.keyId);
  deps.metrics.identityFailures.add(1, { reason: error.reason });
  return { kind: 'refuse', refusal: errorRefusal(error, ctx.decisionId), outcome: 'unauthenticated', reasons: [{ code: error.reason, message: error.message }] };
}

/** The span says who proved they sent the request. */
export function markVerified(ctx: CallContext, where: CheckedIn): void {
  const agent = ctx.agent!;
  ctx.span.setAttribute(A.ATTR_IDENTITY_VERIFIED, true);
  ctx.span.setAttribute(A.ATTR_IDENTITY_CHECKED_IN, where);
  ctx.span.setAttribute(A.ATTR_IDENTITY_SCHEME, agent.scheme);
  ctx.span.setAttribute(A.ATTR_IDENTITY_KEY_ID, agent.keyId);
  ctx.span.setAttribute(A.ATTR_GEN_AI_AGENT_ID, agent.id);
}
