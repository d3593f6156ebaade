import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AUDIT_SCHEMA, ChainSigner, ed25519Thumbprint, type AuditEvent, type UnchainedEvent } from '../../src/audit/index.js';

/** A decision event as the gateway writes it, before chaining. */
export const event = (id: string, over: Partial<UnchainedEvent> = {}): UnchainedEvent => ({
  schema: AUDIT_SCHEMA, type: 'decision', decision_id: id, timestamp: '2026-11-25T10:00:00.000Z', path: 'toolgate/decision',
  input: { args: { to: 'x' } }, result: null, bundles: {}, erased: [], masked: [], metrics: {},
  trace_id: null, span_id: null, labels: { id: 'gw', version: '0', environment: 'test' },
  agent: { id: 'bot', scheme: 'rfc9421', verified: true, key_id: 'k', thumbprint: 't' }, tool: { name: 'email.send', protocol: 'http' },
  outcome: 'allow', reasons: [], policy: { revision: 'r1', sha256: 'a'.repeat(64) },
  request: { method: 'POST', path: '/tools/email.send', body_sha256: 'b'.repeat(64), args_sha256: 'c'.repeat(64), attachments: [] },
  response: null, approval: null, break_glass: null, ...over,
});

/** One gateway instance's chain, written in durable batches of the given sizes (each ends in a checkpoint). */
export function chain(batches: readonly number[], instance = 'gw-1', idPrefix = 'd'): { events: AuditEvent[]; keys: Map<string, KeyObject> } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = new ChainSigner(privateKey, instance);
  const events: AuditEvent[] = [];
  for (const size of batches) {
    const drafted = signer.draft(Array.from({ length: size }, (_, i) => event(`${idPrefix}${events.length + i}`)));
    signer.commit(drafted.at(-1)!);
    events.push(...drafted);
  }
  const pub = createPublicKey(privateKey);
  return { events, keys: new Map([[ed25519Thumbprint(pub), pub]]) };
}
