import { CompressionTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { ToolgateError, UnavailableError } from '../errors.js';
import { GroupCommit } from './group-commit.js';
import { auditLine } from './line.js';
import { ensureAuditTopic, validateTopicDurability, type Finding, type NamedTopicMetadata, type ProducerDurability, type TopicDurability } from './topic-check.js';
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
  /** Replication the topic must have; checked (or used to create it) when the sink opens. */
  readonly durability?: TopicDurability;
  /** Told about each weak topic setting when `durability.topicCheck` is `warn`. */
  readonly onWarning?: (finding: Finding) => void;
  readonly connectionTimeoutMs?: number;
}

/** Every send waits for all in-sync replicas (acks -1), through an idempotent producer. */
const PRODUCER: ProducerDurability = { acks: -1, idempotent: true };

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
    validateTopicDurability(options.durability);
    this.#options = options;
    this.#kafka = kafkaClient(options);
    // Producers only: an admin's metadata request for a topic not created yet could have the broker auto-create it
    // with the broker's defaults; the admin in open() has a client of its own.
    targetTopicFirst(this.#kafka, options.topic);
    this.#producer = this.#newProducer();
  }

  #newProducer(): Producer {
    return this.#kafka.producer({ idempotent: PRODUCER.idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  async open(): Promise<void> {
    // The admin's cluster is kept so the topic check can ask about the audit topic by name (ensureAuditTopic).
    const client = kafkaClient(this.#options);
    let cluster: KafkaCluster | undefined;
    onClusterCreated(client, (made) => {
      cluster = made;
    });
    const admin = client.admin();
    const { topic, createTopic, partitions, durability, onWarning } = this.#options;
    try {
      await admin.connect();
      await ensureAuditTopic(admin, {
        topic, producer: PRODUCER,
        ...(cluster ? { cluster } : {}),
        ...(createTopic !== undefined ? { create: createTopic } : {}),
        ...(partitions !== undefined ? { partitions } : {}),
        ...(durability ? { durability } : {}),
        ...(onWarning ? { onWarning } : {}),
      });
      await this.#producer.connect();
    } catch (cause) {
      // A finding of the topic check is already coded; the client's own failures (no broker reachable, the audit
      // topic without a leader) are said as what they mean for the gateway, with kafkajs' words kept.
      if (cause instanceof ToolgateError) throw cause;
      throw new UnavailableError('audit_unavailable', `The Kafka audit topic ${topic} could not be opened on ${this.#options.brokers.join(',')}${kafkaWords(cause)}. Check TOOLGATE_KAFKA_BROKERS, that the brokers are up and that the topic's partitions have leaders.`, { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    this.#ok = true;
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
        acks: PRODUCER.acks,
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
      throw new UnavailableError('audit_unavailable', `The Kafka audit stream did not acknowledge the decision${kafkaWords(cause)}; nothing was executed. Check TOOLGATE_KAFKA_BROKERS and the broker.`, { cause });
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

/**
 * kafkajs' own words for a failure, in parentheses, with its cause's when it gave up retrying (e.g. "connect
 * ECONNREFUSED", "not enough replicas"): they tell the operator which broker or setting to look at.
 */
function kafkaWords(cause: unknown): string {
  return cause instanceof Error ? ` (${cause.message}${cause.cause instanceof Error && cause.cause.message !== cause.message ? `: ${cause.cause.message}` : ''})` : '';
}

function kafkaClient(options: KafkaSinkOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logLevel.NOTHING,
  });
}

/** The parts of a kafkajs cluster (one per producer or admin, private to kafkajs) the audit path uses. */
export interface KafkaCluster extends NamedTopicMetadata {
  readonly targetTopics?: Set<string>;
}

/**
 * Runs `made` on every cluster `kafka` creates from now on (one per producer or admin), through kafkajs' own
 * symbol-keyed cluster factory (kafkajs 2.x). If the factory is ever missing the client is left as it was and `ok`
 * is false; a unit test pins it on the installed version.
 */
export function onClusterCreated(kafka: Kafka, made: (cluster: KafkaCluster) => void): { ok: boolean } {
  const client = kafka as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster');
  const create = key === undefined ? undefined : client[key];
  if (key === undefined || typeof create !== 'function') return { ok: false };
  client[key] = (...args: unknown[]) => {
    const cluster = (create as (...a: unknown[]) => KafkaCluster)(...args);
    made(cluster);
    return cluster;
  };
  return { ok: true };
}

/**
 * Makes every cluster `kafka` creates start with `topic` as its target topic.
 *
 * kafkajs asks for the metadata of the topics its cluster targets, and encodes an empty list as "every topic"; its
 * metadata parser then fails the whole answer when any partition of any topic has no leader. An idempotent
 * producer's connect (initProducerId) refreshes metadata before anything was sent, with no target yet: so while one
 * partition of an unrelated topic was offline (a single-replica topic on a dead broker), the audit producer that
 * replaces a failed one could not connect, and the audit path stalled with a healthy audit topic (the 3-broker
 * test's rare stall, where that topic was the test's own single-replica scratch topic). With the audit topic as
 * the target from the start, every metadata request names it alone.
 */
export function targetTopicFirst(kafka: Kafka, topic: string): { ok: boolean } {
  return onClusterCreated(kafka, (cluster) => cluster.targetTopics?.add(topic));
}
