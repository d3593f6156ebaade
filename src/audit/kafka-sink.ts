import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { ConfigError, UnavailableError } from '../errors.js';
import { GroupCommit } from './group-commit.js';
import { auditLine } from './line.js';
import type { AuditEvent, AuditSink } from './types.js';

export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly clientId: string;
  /** Partition key: the gateway instance id, so each instance's chain stays in order on one partition. */
  readonly key: string;
  /** Create the topic when missing (unlimited retention, delete-only cleanup). Default true. */
  readonly createTopic?: boolean;
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly connectionTimeoutMs?: number;
}

const TOPIC_CONFIG = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };

/**
 * Streams chained events to Kafka for immutable retention: idempotent producer, acks from all in-sync replicas,
 * gzip-compressed batches, one request in flight so each instance's chain arrives in order.
 */
export class KafkaSink implements AuditSink {
  readonly name = 'kafka';
  readonly #options: KafkaSinkOptions;
  readonly #kafka: Kafka;
  #producer: Producer;
  /** After a failed send the producer is replaced: kafkajs' idempotent producer can stay wedged after a broker restart. */
  #stale = false;
  #ok = false;
  readonly #commit = new GroupCommit<AuditEvent>((events) => this.#send(events), 500);

  constructor(options: KafkaSinkOptions) {
    this.#options = options;
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: 10_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: logLevel.NOTHING,
    });
    this.#producer = this.#newProducer();
  }

  #newProducer(): Producer {
    return this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async open(): Promise<void> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await this.#ensureTopic(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    await this.#producer.connect();
    this.#ok = true;
  }

  async #ensureTopic(admin: Admin): Promise<void> {
    const { topic } = this.#options;
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      if (this.#options.createTopic === false) {
        throw new ConfigError('audit_topic_missing', `Kafka topic ${topic} does not exist: create it with cleanup.policy=delete and retention.ms=-1, or let toolgate create it.`);
      }
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic,
          numPartitions: this.#options.partitions ?? 3,
          replicationFactor: this.#options.replicationFactor ?? -1,
          configEntries: Object.entries(TOPIC_CONFIG).map(([name, value]) => ({ name, value })),
        }],
      });
      return;
    }
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic }] });
    const entries = described.resources[0]?.configEntries ?? [];
    const cleanup = entries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? 'delete';
    if (cleanup.includes('compact')) {
      throw new ConfigError('audit_topic_compacted', `Kafka topic ${topic} has cleanup.policy=${cleanup}: compaction would delete audit events. Set cleanup.policy=delete.`);
    }
  }

  write(events: readonly AuditEvent[]): Promise<void> {
    return this.#commit.push(events);
  }

  async #send(events: AuditEvent[]): Promise<void> {
    try {
      if (this.#stale) {
        await this.#producer.disconnect().catch(() => undefined);
        this.#producer = this.#newProducer();
        await this.#producer.connect();
        this.#stale = false;
      }
      await this.#producer.send({
        topic: this.#options.topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: events.map((e) => ({
          key: this.#options.key,
          value: auditLine(e),
          headers: { 'toolgate-schema': e.schema, 'toolgate-decision-id': e.decision_id },
        })),
      });
      this.#ok = true;
    } catch (cause) {
      this.#ok = false;
      this.#stale = true;
      throw new UnavailableError('audit_unavailable', 'The Kafka audit stream did not acknowledge the decision; nothing was executed. Check TOOLGATE_KAFKA_BROKERS and the broker.', { cause });
    }
  }

  healthy(): boolean {
    return this.#ok;
  }

  async close(): Promise<void> {
    this.#ok = false;
    await this.#producer.disconnect().catch(() => undefined);
  }
}
