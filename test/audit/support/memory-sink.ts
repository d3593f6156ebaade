import type { AuditEvent, AuditSink } from '../../../src/audit/index.js';

/** A remote sink in memory, standing in for Kafka behind the spool. */
export class MemorySink implements AuditSink {
  readonly name = 'memory';
  readonly events: AuditEvent[] = [];
  async open(): Promise<void> {}
  async write(events: readonly AuditEvent[]): Promise<void> {
    this.events.push(...events);
  }
  healthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}
