import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { AuditEvent } from './types.js';
import { parseEventLine } from './line.js';

export interface TopicReadOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Keep reading after the end (tail -f). Default false: stop at the offsets that were the end at start. */
  readonly follow?: boolean;
  /** Stop after this long regardless (ms). Default 60 s when not following. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Reads the audit topic from the beginning with a throw-away consumer group (nothing is committed), calling
 * `onEvent` for each message in partition order; unparseable messages are passed as null.
 */
export async function readTopic(options: TopicReadOptions, onEvent: (event: AuditEvent | null, raw: string) => void): Promise<number> {
  const kafka = new Kafka({ clientId: 'toolgate-audit-reader', brokers: [...options.brokers], logLevel: logLevel.NOTHING, connectionTimeout: 3_000 });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await admin.fetchTopicOffsets(options.topic)) ends.set(p.partition, BigInt(p.high));
  } finally {
    await admin.disconnect();
  }
  const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  if (!options.follow && remaining.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `toolgate-reader-${randomUUID()}`, allowAutoTopicCreation: false });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = options.follow ? undefined : setTimeout(() => reject(new Error(`reading ${options.topic} timed out`)), options.timeoutMs ?? 60_000);
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const raw = message.value?.toString('utf8') ?? '';
            const event = parseEventLine(raw);
            count++;
            onEvent(event, raw);
            if (!options.follow && BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) {
              remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}
