import type { AuditEvent } from './types.js';

/**
 * The JSON line of each event the chain produced in this process, kept from when it was hashed: the file, the spool
 * and Kafka write these bytes instead of serialising the event again (one serialisation per event; measured in
 * README's Benchmarks). Weakly held: an event no sink holds any more takes its line with it.
 */
const LINES = new WeakMap<AuditEvent, string>();

export function rememberLine(event: AuditEvent, line: string): void {
  LINES.set(event, line);
}

/** The event as one line of JSON (without the newline): the chain's canonical text, or JSON.stringify for others. */
export function auditLine(event: AuditEvent): string {
  return LINES.get(event) ?? JSON.stringify(event);
}
