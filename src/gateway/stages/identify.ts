import { requestFacts } from '../../extract/index.js';
import { IdentityError } from '../../identity/types.js';
import * as A from '../../telemetry/attributes.js';
import { errorRefusal } from '../respond.js';
import { elapsedNs } from './util.js';
import type { Stage } from './context.js';

/**
 * Who is calling: the signature over the exact request. Only a request that failed to prove its identity is a
 * 401; a broken replay store or key directory is the gateway's problem and fails closed as 503 (thrown on).
 */
export const identify: Stage = async (ctx, deps) => {
  const t = performance.now();
  const { span } = ctx;
  ctx.facts = requestFacts(ctx.req, ctx.raw ?? Buffer.alloc(0));
  try {
    ctx.agent = await deps.config.verifier.verify(ctx.facts);
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    ctx.identityError = error;
    ctx.timers.timer_identity_ns = elapsedNs(t);
    span.setAttribute(A.ATTR_IDENTITY_VERIFIED, false);
    span.setAttribute(A.ATTR_IDENTITY_SCHEME, error.claimed.scheme);
    if (error.claimed.keyId) span.setAttribute(A.ATTR_IDENTITY_KEY_ID, error.claimed.keyId);
    deps.metrics.identityFailures.add(1, { reason: error.reason });
    return { kind: 'refuse', refusal: errorRefusal(error, ctx.decisionId), outcome: 'unauthenticated', reasons: [{ code: error.reason, message: error.message }] };
  }
  ctx.timers.timer_identity_ns = elapsedNs(t);
  const agent = ctx.agent;
  span.setAttribute(A.ATTR_IDENTITY_VERIFIED, true);
  span.setAttribute(A.ATTR_IDENTITY_SCHEME, agent.scheme);
  span.setAttribute(A.ATTR_IDENTITY_KEY_ID, agent.keyId);
  span.setAttribute(A.ATTR_GEN_AI_AGENT_ID, agent.id);
};
