import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * What an approval is bound to: sha256 hex of canonicalJson({agent, tool, args}), plus `definition` (the digest
 * of the MCP tool's listed definition) when there is one. Same agent, same tool, the same arguments (key order and
 * whitespace aside) and the same tool definition give the same binding; anything else does not, so a tool whose
 * definition the service changed while the approval waited cannot run on it.
 */
export function approvalBinding(agent: string, tool: string, args: unknown, definition?: string | null): string {
  return sha256Hex(canonicalJson(typeof definition === 'string' ? { agent, tool, args, definition } : { agent, tool, args }));
}

/** sha256 hex of canonicalJson(args), recorded with the approval for the audit trail. */
export function argsSha256(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}
