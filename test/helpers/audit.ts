import { readFileSync } from 'node:fs';
import type { AuditEvent } from '../../src/audit/types.js';

/** The events of a JSONL audit file; a line still being written (no newline yet) is left for the next read. */
export function readAuditFile(path: string): AuditEvent[] {
  const text = readFileSync(path, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
}

/** The event of `type` a decision wrote to the audit file, waited for (events land after the answer). */
export async function auditEventOf(file: string, decisionId: string | null, type: AuditEvent['type'] = 'decision', timeoutMs = 5_000): Promise<AuditEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = readAuditFile(file).find((e) => e.decision_id === decisionId && e.type === type);
    if (event) return event;
    if (Date.now() > deadline) throw new Error(`no ${type} event for decision ${String(decisionId)} in ${file} within ${timeoutMs} ms`);
    await new Promise((r) => setImmediate(r));
  }
}
