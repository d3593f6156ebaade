import { readTopic } from '../../src/audit/topic-reader.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { waitFor } from './services.js';

/**
 * Reads the topic from the beginning until every wanted decision id has a decision event (and, for `completed`,
 * a completion event), polling.
 */
export async function consumeDecisions(brokers: string[], topic: string, decisionIds: readonly string[], timeoutMs = 30_000, completed: readonly string[] = []): Promise<AuditEvent[]> {
  return waitFor(`decisions ${decisionIds.join(',')} on ${topic}`, async () => {
    const events: AuditEvent[] = [];
    await readTopic({ brokers, topic, timeoutMs: 15_000 }, (e) => {
      if (e) events.push(e);
    });
    const have = new Set(events.filter((e) => e.type === 'decision').map((e) => e.decision_id));
    const done = new Set(events.filter((e) => e.type === 'completion').map((e) => e.decision_id));
    return decisionIds.every((id) => have.has(id)) && completed.every((id) => done.has(id)) ? events : undefined;
  }, timeoutMs, 500);
}
