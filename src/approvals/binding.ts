import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/canonical.js';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * What an approval is bound to: sha256 hex of canonicalJson({agent, tool, args}). Same agent, same tool and the
 * same arguments (key order and whitespace aside) give the same binding; anything else does not.
 */
export function approvalBinding(agent: string, tool: string, args: unknown): string {
  return sha256Hex(canonicalJson({ agent, tool, args }));
}

/** sha256 hex of canonicalJson(args), recorded with the approval for the audit trail. */
export function argsSha256(args: unknown): string {
  return sha256Hex(canonicalJson(args));
}
