import type { ApprovalFacts } from '../policy/types.js';
import { approvalFacts, isApprovalId } from './record.js';
import type { ApprovalStore } from './types.js';

/**
 * The `input.approval` facts for a call that presented `Toolgate-Approval: <id>`: a read, nothing is spent.
 * An id that cannot be one of ours (wrong characters, too long) is `unknown` without touching the store.
 * Store failures propagate (UnavailableError → 503: fail closed).
 */
export async function lookupApproval(store: ApprovalStore, id: string, binding: string, nowMs: number): Promise<ApprovalFacts> {
  if (!isApprovalId(id)) return { id: typeof id === 'string' ? (id as string).slice(0, 128) : '', status: 'unknown' };
  return approvalFacts(id, await store.get(id), binding, nowMs);
}
