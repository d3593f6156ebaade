import { readFileSync } from 'node:fs';
import type { AuditEvent } from '../../src/audit/types.js';

/** The events of a JSONL audit file; a line still being written (no newline yet) is left for the next read. */
export function readAuditFile(path: string): AuditEvent[] {
  const text = readFileSync(path, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
}
