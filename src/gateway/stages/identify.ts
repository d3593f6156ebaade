import { requestFacts } from '../../extract/index.js';
import { IdentityError, isPending } from '../../identity/types.js';
import { deferrable, makeClaim } from './claim.js';
import { elapsedNs } from './util.js';
import { identityRefusal, markVerified } from './identity-outcome.js';
import type { Stage } from './context.js';

/**
 * Who is calling: the signature over the exact request. Only a request that failed to prove its identity is a
 * 401; a broken replay store or key directory is the gateway's problem and fails closed as 503 (thrown on).
 * A call that may have its Ed25519 check made in the evaluator thread leaves here with a claim (claim.ts).
 */
export const identify: Stage = async (ctx, deps) => {
  const t = performance.now();
  ctx.facts = requestFacts(ctx.req, ctx.raw ?? Buffer.alloc(0));
  try {
    const { verifier } = deps.config;
    const result = deferrable(ctx, deps) ? await verifier.prepare!(ctx.facts) : await verifier.verify(ctx.facts);
    ctx.timers.timer_identity_ns = elapsedNs(t);
    if (isPending(result)) {
      makeClaim(ctx, result);
      return;
    }
    ctx.agent = result;
  } catch (error) {
    if (!(error instanceof IdentityError)) throw error;
    ctx.timers.timer_identity_ns = elapsedNs(t);
    return identityRefusal(ctx, deps, error, 'gateway');
  }
  markVerified(ctx, 'gateway');
};
