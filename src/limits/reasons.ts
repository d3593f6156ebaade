import type { Reason } from '../policy/types.js';
import type { LimitObligation, ReserveResult } from './types.js';

const LIMIT_REASONS: Record<LimitObligation['kind'], string> = { rate: 'rate_limited', budget: 'budget_exceeded', cooldown: 'cooldown_active' };

/** The reason a refused reservation gives the caller, with what to do. */
export function limitReason(r: Extract<ReserveResult, { ok: false }>): Reason {
  const code = LIMIT_REASONS[r.kind];
  if (r.cause === 'cost_exceeds_max') {
    return { code, message: `This call alone costs more than the ${r.kind} limit ${r.key} allows (max ${r.max}); it can never fit. Make it smaller.` };
  }
  if (r.cause === 'invalid_obligation') {
    return { code, message: `The policy's ${r.kind} obligation ${r.key} is not usable (cost, max or window out of range); ask a policy author to fix it.` };
  }
  const what = r.kind === 'cooldown' ? `is cooling down` : r.kind === 'budget' ? `has used ${r.used} of its budget ${r.max}` : `has used ${r.used} of ${r.max} calls in its window`;
  return { code, message: `${r.key} ${what}; retry after ${r.retryAfterS} s.` };
}

