import type { Admin } from 'kafkajs';
import { ConfigError } from '../errors.js';

/**
 * What the audit topic must guarantee, checked once when the Kafka sink opens. Durability `kafka` promises a caller
 * that its decision was acknowledged by every in-sync replica; with one replica, or min.insync.replicas=1, "every
 * in-sync replica" can be a single disk, and that promise is silently weaker than it reads.
 */
export interface TopicDurability {
  /**
   * Replicas every partition must have (TOOLGATE_KAFKA_REPLICATION_FACTOR). Default: 3, or the number of live
   * brokers when the cluster has fewer (a one-broker development setup). Set it in production: a gateway started
   * while a broker is down would otherwise expect, and create, fewer.
   */
  readonly replicationFactor?: number;
  /** The topic's min.insync.replicas must be at least this (TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS). Default 2 with 3 or more replicas, else 1. */
  readonly minInsyncReplicas?: number;
  /**
   * A topic weaker than required: `fail` (default) refuses to start; `warn` starts and reports each finding
   * (TOOLGATE_KAFKA_TOPIC_CHECK). Settings that make the topic unusable or lossy by design always fail.
   */
  readonly topicCheck?: 'fail' | 'warn';
}

/** How the sink's producer writes: checked with the topic so a regression there cannot weaken durability unnoticed. */
export interface ProducerDurability {
  readonly acks: number;
  readonly idempotent: boolean;
}

export interface Requirements {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly topicCheck: 'fail' | 'warn';
}

export interface TopicFacts {
  /** Assigned replicas per partition. */
  readonly partitions: readonly { readonly id: number; readonly replicas: number }[];
  /** Effective topic configuration (topic overrides and broker defaults). */
  readonly config: Readonly<Record<string, string>>;
}

export interface Finding {
  readonly code: string;
  readonly message: string;
  /** Weaker than required (the `warn` override applies), as opposed to unusable or lossy by design. */
  readonly weak: boolean;
}

/** Topic settings toolgate creates the audit topic with, besides replication. */
export const AUDIT_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'cleanup.policy': 'delete',
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'unclean.leader.election.enable': 'false',
};

function positive(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError('kafka_durability_invalid', `${what} must be a positive integer, not ${String(value)}.`);
  return value;
}

/** Validates the options once at start-up (unknown values are refused with the fix). */
export function validateTopicDurability(d: TopicDurability = {}): TopicDurability {
  const rf = positive(d.replicationFactor, 'audit.kafka.replicationFactor (TOOLGATE_KAFKA_REPLICATION_FACTOR)');
  const isr = positive(d.minInsyncReplicas, 'audit.kafka.minInsyncReplicas (TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS)');
  if (rf !== undefined && isr !== undefined && isr > rf) {
    throw new ConfigError('kafka_durability_invalid', `TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS=${isr} exceeds TOOLGATE_KAFKA_REPLICATION_FACTOR=${rf}: no write could ever be acknowledged. Use at most ${rf} (2 with 3 replicas).`);
  }
  if (d.topicCheck !== undefined && d.topicCheck !== 'fail' && d.topicCheck !== 'warn') {
    throw new ConfigError('kafka_durability_invalid', `TOOLGATE_KAFKA_TOPIC_CHECK=${String(d.topicCheck)}: use "fail" (refuse to start on a weak audit topic, the default) or "warn".`);
  }
  return d;
}

/** The requirements for a cluster with `liveBrokers` brokers up. */
export function requirements(d: TopicDurability, liveBrokers: number): Requirements {
  const replicationFactor = d.replicationFactor ?? Math.max(1, Math.min(3, liveBrokers));
  return {
    replicationFactor,
    minInsyncReplicas: d.minInsyncReplicas ?? (replicationFactor >= 3 ? 2 : 1),
    topicCheck: d.topicCheck ?? 'fail',
  };
}

/** Everything wrong with an existing topic (and the producer) against the requirements; empty when all is well. */
export function assessTopic(topic: string, facts: TopicFacts, req: Requirements, producer: ProducerDurability): Finding[] {
  const out: Finding[] = [];
  if (producer.acks !== -1) out.push({ code: 'audit_producer_acks', weak: false, message: `The audit producer uses acks=${producer.acks}; it must wait for all in-sync replicas (acks=-1).` });
  if (!producer.idempotent) out.push({ code: 'audit_producer_not_idempotent', weak: false, message: 'The audit producer is not idempotent: a retried send could write an event twice out of order.' });
  const cleanup = facts.config['cleanup.policy'] ?? 'delete';
  if (cleanup.includes('compact')) {
    out.push({ code: 'audit_topic_compacted', weak: false, message: `Kafka topic ${topic} has cleanup.policy=${cleanup}: compaction would delete audit events. Set cleanup.policy=delete.` });
  }
  const fewest = Math.min(...facts.partitions.map((p) => p.replicas));
  const worst = facts.partitions.find((p) => p.replicas === fewest);
  if (worst && fewest < req.replicationFactor) {
    out.push({ code: 'audit_topic_replication_low', weak: true, message: `Kafka topic ${topic} partition ${worst.id} has ${fewest} replica(s); toolgate requires ${req.replicationFactor} (TOOLGATE_KAFKA_REPLICATION_FACTOR). Reassign the partitions to ${req.replicationFactor} brokers (kafka-reassign-partitions), or lower the requirement.` });
  }
  const minIsr = Number(facts.config['min.insync.replicas'] ?? '1');
  if (worst && minIsr > fewest) {
    out.push({ code: 'audit_topic_min_isr_unreachable', weak: false, message: `Kafka topic ${topic} has min.insync.replicas=${minIsr} but partition ${worst.id} only ${fewest} replica(s): no write can be acknowledged. Lower min.insync.replicas or add replicas.` });
  } else if (minIsr < req.minInsyncReplicas) {
    out.push({ code: 'audit_topic_min_isr_low', weak: true, message: `Kafka topic ${topic} has min.insync.replicas=${minIsr}; toolgate requires ${req.minInsyncReplicas} (TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS), so one broker's disk could hold an acknowledged decision alone. Run: kafka-configs --alter --entity-type topics --entity-name ${topic} --add-config min.insync.replicas=${req.minInsyncReplicas}.` });
  }
  if (facts.config['unclean.leader.election.enable'] === 'true') {
    out.push({ code: 'audit_topic_unclean_election', weak: true, message: `Kafka topic ${topic} has unclean.leader.election.enable=true: an out-of-sync replica may become leader and drop acknowledged decisions. Set it to false.` });
  }
  return out;
}

/**
 * Metadata asked for by topic name: the admin's kafkajs cluster (kafka-sink.ts). kafkajs' admin calls that list the
 * cluster (describeCluster, listTopics) ask about every topic, and kafkajs fails the whole answer when any partition
 * of any topic has no leader: with this, a gateway starts while an unrelated partition is offline.
 */
export interface NamedTopicMetadata {
  /** One metadata request naming `topics`: the live brokers and those topics' partitions. */
  metadata(request: { topics: string[] }): Promise<{ readonly brokers: readonly unknown[]; readonly topicMetadata: readonly { readonly topic: string; readonly partitionMetadata: readonly { readonly partitionId: number; readonly replicas: readonly number[] }[] }[] }>;
  /** Makes `topic` what the cluster's own metadata refreshes name (describeConfigs refreshes before it asks). */
  addTargetTopic(topic: string): Promise<void>;
}

export interface EnsureTopicOptions {
  readonly topic: string;
  /**
   * Ask about the audit topic by name (see NamedTopicMetadata). Without it, or for a topic that does not exist
   * yet, the check lists the cluster's brokers and topics, which needs every partition in the cluster led.
   */
  readonly cluster?: NamedTopicMetadata;
  /** Create the topic when missing. Default true. */
  readonly create?: boolean;
  /** Partitions of a created topic. Default 3. */
  readonly partitions?: number;
  readonly durability?: TopicDurability;
  readonly producer: ProducerDurability;
  /** Receives each weak finding when `topicCheck` is `warn`. */
  readonly onWarning?: (finding: Finding) => void;
}

export interface TopicCheck {
  readonly created: boolean;
  readonly requirements: Requirements;
  readonly findings: readonly Finding[];
}

/**
 * Creates the audit topic with the required replication when it is missing, else checks it. Throws a
 * ConfigError (the finding's code, its sentence) for the first finding that must stop the start.
 */
export async function ensureAuditTopic(admin: Admin, o: EnsureTopicOptions): Promise<TopicCheck> {
  const named = o.cluster ? await namedTopic(o.cluster, o.topic) : undefined;
  if (named) {
    await o.cluster!.addTargetTopic(o.topic);
    return check(admin, o, requirements(o.durability ?? {}, named.brokers));
  }
  const cluster = await admin.describeCluster();
  const req = requirements(o.durability ?? {}, cluster.brokers.length);
  const topics = await admin.listTopics();
  if (!topics.includes(o.topic)) {
    if (o.create === false) {
      throw new ConfigError('audit_topic_missing', `Kafka topic ${o.topic} does not exist: create it with replication factor ${req.replicationFactor}, min.insync.replicas=${req.minInsyncReplicas}, cleanup.policy=delete and retention.ms=-1, or let toolgate create it.`);
    }
    if (cluster.brokers.length < req.replicationFactor) {
      throw new ConfigError('audit_topic_create_failed', `Kafka topic ${o.topic} is missing and cannot be created with ${req.replicationFactor} replicas: only ${cluster.brokers.length} broker(s) are up. Start the other brokers, or set TOOLGATE_KAFKA_REPLICATION_FACTOR to what the cluster has.`);
    }
    const config = { ...AUDIT_TOPIC_CONFIG, 'min.insync.replicas': String(req.minInsyncReplicas) };
    try {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30_000, // electing 3 partitions' leaders on a busy cluster can take more than kafkajs' 5 s default
        topics: [{
          topic: o.topic,
          numPartitions: o.partitions ?? 3,
          replicationFactor: req.replicationFactor,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        }],
      });
    } catch (cause) {
      // Another gateway created it between our list and create, or it was created and only the wait for its
      // leaders gave up: check what exists, as for any existing topic.
      if (!(await admin.listTopics().catch(() => [] as string[])).includes(o.topic)) {
        throw new ConfigError('audit_topic_create_failed', `Creating Kafka topic ${o.topic} (${req.replicationFactor} replicas, min.insync.replicas=${req.minInsyncReplicas}) failed: ${cause instanceof Error ? cause.message : String(cause)}. Check the brokers, or create the topic yourself.`, { cause });
      }
      return check(admin, o, req);
    }
    // Checked like any other: a broker policy may have changed what we asked for.
    return { ...(await check(admin, o, req)), created: true };
  }
  return check(admin, o, req);
}

/** The live brokers, when `topic` exists (one metadata request naming it alone); undefined when it does not. */
async function namedTopic(cluster: NamedTopicMetadata, topic: string): Promise<{ brokers: number } | undefined> {
  try {
    const meta = await cluster.metadata({ topics: [topic] });
    return meta.topicMetadata.some((t) => t.topic === topic) ? { brokers: meta.brokers.length } : undefined;
  } catch (error) {
    // Created below (or refused as missing), through the admin calls that list the cluster.
    const e = error as { type?: unknown; cause?: { type?: unknown } };
    if ((e.type ?? e.cause?.type) === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
    throw error;
  }
}

async function check(admin: Admin, o: EnsureTopicOptions, req: Requirements): Promise<TopicCheck> {
  const findings = assessTopic(o.topic, await describe(admin, o.topic), req, o.producer);
  const fatal = findings.find((f) => !f.weak || req.topicCheck === 'fail');
  if (fatal) {
    const hint = fatal.weak ? ' To start anyway with the weaker topic, set TOOLGATE_KAFKA_TOPIC_CHECK=warn.' : '';
    throw new ConfigError(fatal.code, fatal.message + hint);
  }
  for (const f of findings) o.onWarning?.(f);
  return { created: false, requirements: req, findings };
}

async function describe(admin: Admin, topic: string): Promise<TopicFacts> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = (meta.topics[0]?.partitions ?? []).map((p) => ({ id: p.partitionId, replicas: p.replicas.length }));
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic }] });
  const config: Record<string, string> = {};
  for (const e of described.resources[0]?.configEntries ?? []) if (e.configValue !== null) config[e.configName] = e.configValue;
  return { partitions, config };
}
