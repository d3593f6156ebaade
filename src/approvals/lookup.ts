import type { ApprovalFacts } from '../policy/types.js';
import { argsSha256 } from './binding.js';
import { approvalFacts, isApprovalId } from './record.js';
import type { ApprovalStore } from './types.js';

/** The call an approval is presented with, to tell a changed tool definition from a different call. */
export interface PresentedCall {
  readonly agent: string;
  readonly tool: string;
  readonly args: unknown;
}

/**
 * The `input.approval` facts for a call that presented `Toolgate-Approval: <id>`: a read, nothing is spent.
 * An id that cannot be one of ours (wrong characters, too long) is `unknown` without touching the store.
 * When the binding differs but agent, tool and arguments are the ones approved, only the tool's definition can
 * have changed: the status is then `definition_changed`, so the agent learns to ask again rather than that it
 * sent another call. Store failures propagate (UnavailableError → 503: fail closed).
 */
export async function lookupApproval(store: ApprovalStore, id: string, binding: string, nowMs: number, call?: PresentedCall): Promise<ApprovalFacts> {
  if (!isApprovalId(id)) return { id: typeof id === 'string' ? (id as string).slice(0, 128) : '', status: 'unknown' };
  const record = await store.get(id);
  const facts = approvalFacts(id, record, binding, nowMs);
  if (facts.status === 'mismatch' && call && record && record.agent === call.agent && record.tool === call.tool && record.args_sha256 === argsSha256(call.args)) {
    return { id, status: 'definition_changed' };
  }
  return facts;
}
