import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { assessTopic, ensureAuditTopic, requirements, validateTopicDurability, type Finding, type TopicFacts } from '../../src/audit/topic-check.js';
import { KafkaSink } from '../../src/audit/kafka-sink.js';
import { loadServerConfig } from '../../src/server/config.js';
import { freePort } from '../../src/bench/opa.js';

const SAFE = { acks: -1, idempotent: true };
const facts = (replicas: number[], config: Record<string, string> = {}): TopicFacts => ({
  partitions: replicas.map((r, id) => ({ id, replicas: r })),
  config: { 'cleanup.policy': 'delete', 'min.insync.replicas': '2', 'unclean.leader.election.enable': 'false', ...config },
});
const codes = (f: readonly Finding[]) => f.map((x) => x.code);

describe('requirements', () => {
  it.each([
    [1, {}, 1, 1],
    [2, {}, 2, 1],
    [3, {}, 3, 2],
    [5, {}, 3, 2],
    [2, { replicationFactor: 3 }, 3, 2], // explicit: a broker down at start does not lower the bar
    [3, { minInsyncReplicas: 3 }, 3, 3],
  ])('%i live brokers, %j: RF %i, min ISR %i', (live, d, rf, isr) => {
    expect(requirements(d, live)).toMatchObject({ replicationFactor: rf, minInsyncReplicas: isr, topicCheck: 'fail' });
  });

  it.each([
    [{ replicationFactor: 0 }, /positive integer/],
    [{ minInsyncReplicas: Number.NaN }, /positive integer/],
    [{ replicationFactor: 2, minInsyncReplicas: 3 }, /exceeds/],
    [{ topicCheck: 'ignore' as 'warn' }, /"fail".*"warn"/],
  ])('refuses %j', (d, message) => {
    expect(() => validateTopicDurability(d)).toThrow(message);
  });
});

describe('assessTopic', () => {
  const req = requirements({}, 3);

  it('passes a topic with 3 replicas, min.insync.replicas=2, no unclean election', () => {
    expect(assessTopic('t', facts([3, 3, 3]), req, SAFE)).toEqual([]);
  });

  it.each([
    ['audit_topic_replication_low', facts([3, 1, 3]), true, /partition 1 has 1 replica/],
    ['audit_topic_min_isr_low', facts([3], { 'min.insync.replicas': '1' }), true, /min.insync.replicas=1; toolgate requires 2/],
    ['audit_topic_min_isr_unreachable', facts([2], { 'min.insync.replicas': '3' }), false, /no write can be acknowledged/],
    ['audit_topic_unclean_election', facts([3], { 'unclean.leader.election.enable': 'true' }), true, /out-of-sync replica/],
    ['audit_topic_compacted', facts([3], { 'cleanup.policy': 'compact,delete' }), false, /compaction would delete/],
  ])('%s', (code, f, weak, message) => {
    const found = assessTopic('t', f, req, SAFE).find((x) => x.code === code);
    expect(found?.weak).toBe(weak);
    expect(found?.message).toMatch(message);
  });

  it('checks the producer: acks from all in-sync replicas, idempotent', () => {
    expect(codes(assessTopic('t', facts([3]), req, { acks: 1, idempotent: false }))).toEqual(['audit_producer_acks', 'audit_producer_not_idempotent']);
  });

  it('a single-broker development topic is fine for a single-broker cluster', () => {
    expect(assessTopic('t', facts([1], { 'min.insync.replicas': '1' }), requirements({}, 1), SAFE)).toEqual([]);
  });
});

/** A stand-in for the kafkajs admin client (a third-party API, not our code): one topic store, no network. */
function fakeAdmin(brokers: number, topics: Record<string, TopicFacts> = {}) {
  const created: { replicationFactor?: number; configEntries?: { name: string; value: string }[] }[] = [];
  const admin = {
    describeCluster: async () => ({ brokers: Array.from({ length: brokers }, (_, i) => ({ nodeId: i + 1, host: '127.0.0.1', port: 9092 + i })), controller: 1, clusterId: 'c' }),
    listTopics: async () => Object.keys(topics),
    createTopics: async ({ topics: ts }: { topics: { topic: string; numPartitions: number; replicationFactor: number; configEntries: { name: string; value: string }[] }[] }) => {
      for (const t of ts) {
        created.push(t);
        topics[t.topic] = { partitions: Array.from({ length: t.numPartitions }, (_, id) => ({ id, replicas: t.replicationFactor })), config: Object.fromEntries(t.configEntries.map((e) => [e.name, e.value])) };
      }
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((n) => ({ name: n, partitions: topics[n]!.partitions.map((p) => ({ partitionId: p.id, replicas: Array.from({ length: p.replicas }, (_, i) => i + 1) })) })),
    }),
    describeConfigs: async ({ resources }: { resources: { name: string }[] }) => ({
      resources: resources.map((r) => ({ configEntries: Object.entries(topics[r.name]!.config).map(([configName, configValue]) => ({ configName, configValue })) })),
    }),
  };
  return { admin: admin as unknown as Admin, created };
}

describe('ensureAuditTopic', () => {
  it('creates a missing topic with 3 replicas and min.insync.replicas=2 on a 3-broker cluster', async () => {
    const { admin, created } = fakeAdmin(3);
    const r = await ensureAuditTopic(admin, { topic: 'audit', producer: SAFE });
    expect(r.created).toBe(true);
    expect(created[0]?.replicationFactor).toBe(3);
    expect(created[0]?.configEntries).toEqual(expect.arrayContaining([{ name: 'min.insync.replicas', value: '2' }, { name: 'unclean.leader.election.enable', value: 'false' }, { name: 'retention.ms', value: '-1' }]));
  });

  it('a topic created whose leaders were not all elected in time is checked, not refused', async () => {
    const { admin } = fakeAdmin(3);
    const create = admin.createTopics.bind(admin);
    admin.createTopics = async (args) => {
      await create(args);
      throw Object.assign(new Error('This server does not host this topic-partition'), { retriable: true });
    };
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE })).resolves.toMatchObject({ findings: [] });
  });

  it('a creation that failed is refused with the brokers\' reason', async () => {
    const { admin } = fakeAdmin(3);
    admin.createTopics = async () => { throw new Error('Topic authorization failed'); };
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE })).rejects.toMatchObject({ reason: 'audit_topic_create_failed', message: expect.stringContaining('Topic authorization failed') });
  });

  it('refuses to create with fewer live brokers than the required replicas, saying which', async () => {
    const { admin } = fakeAdmin(2);
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, durability: { replicationFactor: 3 } })).rejects.toMatchObject({ reason: 'audit_topic_create_failed', message: expect.stringMatching(/only 2 broker/) });
  });

  it('refuses to start on a weaker existing topic, with the reason code and the override named', async () => {
    const { admin } = fakeAdmin(3, { audit: facts([1], { 'min.insync.replicas': '1' }) });
    const error = await ensureAuditTopic(admin, { topic: 'audit', producer: SAFE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ reason: 'audit_topic_replication_low', message: expect.stringContaining('TOOLGATE_KAFKA_TOPIC_CHECK=warn') });
  });

  it('with topicCheck warn, starts and reports every weak finding', async () => {
    const { admin } = fakeAdmin(3, { audit: facts([1], { 'min.insync.replicas': '1' }) });
    const warned: Finding[] = [];
    const r = await ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, durability: { topicCheck: 'warn' }, onWarning: (f) => warned.push(f) });
    expect(codes(warned)).toEqual(['audit_topic_replication_low', 'audit_topic_min_isr_low']);
    expect(r.created).toBe(false);
  });

  it('warn never covers a lossy-by-design topic', async () => {
    const { admin } = fakeAdmin(3, { audit: facts([3], { 'cleanup.policy': 'compact' }) });
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, durability: { topicCheck: 'warn' } })).rejects.toMatchObject({ reason: 'audit_topic_compacted' });
  });

  it('a missing topic with creation off names the settings to create it with', async () => {
    const { admin } = fakeAdmin(3);
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, create: false })).rejects.toMatchObject({ reason: 'audit_topic_missing', message: expect.stringMatching(/replication factor 3, min.insync.replicas=2/) });
  });
});

/**
 * The admin's cluster answering for the topics it is asked about by name, in a cluster where another topic has a
 * partition without a leader: what kafkajs does then to any request that lists the whole cluster.
 */
function namedOnly(brokers: number, topics: Record<string, TopicFacts>, admin: Admin) {
  const asked: string[][] = [];
  const targets: string[] = [];
  const offline = () => { throw Object.assign(new Error('There is no leader for this topic-partition as we are in the middle of a leadership election'), { type: 'LEADER_NOT_AVAILABLE', retriable: true }); };
  admin.describeCluster = offline;
  admin.listTopics = offline;
  const describeConfigs = admin.describeConfigs.bind(admin);
  // kafkajs' describeConfigs refreshes the cluster's target topics first: every topic while it has none.
  admin.describeConfigs = async (args) => (targets.length === 0 ? offline() : describeConfigs(args));
  const cluster = {
    metadata: async ({ topics: names }: { topics: string[] }) => {
      asked.push(names);
      const missing = names.find((n) => !topics[n]);
      if (missing) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
      return {
        brokers: Array.from({ length: brokers }, (_, i) => ({ nodeId: i + 1 })),
        topicMetadata: names.map((n) => ({ topic: n, partitionMetadata: topics[n]!.partitions.map((p) => ({ partitionId: p.id, replicas: Array.from({ length: p.replicas }, (_, i) => i + 1) })) })),
      };
    },
    addTargetTopic: async (topic: string) => { targets.push(topic); },
  };
  return { cluster, asked, targets };
}

describe('ensureAuditTopic, asking about the audit topic by name', () => {
  it('checks an existing topic while a partition of another topic has no leader', async () => {
    const topics = { audit: facts([3, 3, 3]) };
    const { admin } = fakeAdmin(3, topics);
    const { cluster, asked, targets } = namedOnly(3, topics, admin);
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE })).rejects.toMatchObject({ type: 'LEADER_NOT_AVAILABLE' });
    const r = await ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, cluster });
    expect(r).toMatchObject({ created: false, findings: [], requirements: { replicationFactor: 3, minInsyncReplicas: 2 } });
    expect(asked).toEqual([['audit']]);
    expect(targets).toEqual(['audit']);
  });

  it('takes the live brokers from the named answer: a weak topic is still refused', async () => {
    const topics = { audit: facts([1], { 'min.insync.replicas': '1' }) };
    const { admin } = fakeAdmin(3, topics);
    const { cluster } = namedOnly(3, topics, admin);
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, cluster })).rejects.toMatchObject({ reason: 'audit_topic_replication_low' });
    // One broker up: a one-replica development topic is what it can have.
    const one = { audit: facts([1], { 'min.insync.replicas': '1' }) };
    const single = fakeAdmin(1, one);
    await expect(ensureAuditTopic(single.admin, { topic: 'audit', producer: SAFE, cluster: namedOnly(1, one, single.admin).cluster })).resolves.toMatchObject({ findings: [] });
  });

  it('a missing topic is created through the admin, as before', async () => {
    const { admin, created } = fakeAdmin(3);
    const asked: string[][] = [];
    const cluster = {
      metadata: async ({ topics }: { topics: string[] }) => {
        asked.push(topics);
        throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      },
      addTargetTopic: async () => { throw new Error('not for a missing topic'); },
    };
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, cluster })).resolves.toMatchObject({ created: true });
    expect(asked).toEqual([['audit']]);
    expect(created[0]?.replicationFactor).toBe(3);
  });

  it('an audit topic without a leader is not taken for a missing one: the start fails with kafkajs\' error', async () => {
    const { admin, created } = fakeAdmin(3);
    const cluster = {
      metadata: async () => { throw Object.assign(new Error('There is no leader for this topic-partition'), { type: 'LEADER_NOT_AVAILABLE' }); },
      addTargetTopic: async () => undefined,
    };
    await expect(ensureAuditTopic(admin, { topic: 'audit', producer: SAFE, cluster })).rejects.toMatchObject({ type: 'LEADER_NOT_AVAILABLE' });
    expect(created).toEqual([]);
  });
});

describe('configuration', () => {
  it('reads the requirement from the environment', () => {
    const config = loadServerConfig({ TOOLGATE_KAFKA_BROKERS: 'a:9092,b:9092,c:9092', TOOLGATE_KAFKA_REPLICATION_FACTOR: '3', TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS: '2', TOOLGATE_KAFKA_TOPIC_CHECK: 'warn' });
    expect(config.audit.kafka).toMatchObject({ brokers: ['a:9092', 'b:9092', 'c:9092'], replicationFactor: 3, minInsyncReplicas: 2, topicCheck: 'warn' });
    expect(loadServerConfig({ TOOLGATE_KAFKA_BROKERS: 'a:9092' }).audit.kafka).not.toHaveProperty('replicationFactor');
  });

  it.each([
    [{ TOOLGATE_KAFKA_REPLICATION_FACTOR: 'three' }, /TOOLGATE_KAFKA_REPLICATION_FACTOR\) must be a positive integer/],
    [{ TOOLGATE_KAFKA_REPLICATION_FACTOR: '2', TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS: '3' }, /exceeds/],
    [{ TOOLGATE_KAFKA_TOPIC_CHECK: 'off' }, /TOOLGATE_KAFKA_TOPIC_CHECK=off/],
  ])('refuses %j when the sink is built, before connecting', (env, message) => {
    const { brokers, topic, ...durability } = loadServerConfig({ TOOLGATE_KAFKA_BROKERS: '127.0.0.1:1', ...env }).audit.kafka!;
    expect(() => new KafkaSink({ brokers, topic, clientId: 't', key: 't', durability })).toThrow(message);
  });
});

describe('opening the Kafka sink', () => {
  it('says what an unreachable cluster means for the gateway, as a coded error with kafkajs\' words kept', async () => {
    const port = await freePort(); // nothing listens there once freePort returns
    const sink = new KafkaSink({ brokers: [`127.0.0.1:${port}`], topic: 'toolgate.audit.v1', clientId: 't', key: 't', connectionTimeoutMs: 500 });
    const error = await sink.open().catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'audit_unavailable', message: expect.stringMatching(new RegExp(`toolgate\\.audit\\.v1 could not be opened on 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)\\. Check TOOLGATE_KAFKA_BROKERS`)) });
    expect(sink.healthy()).toBe(false);
  }, 30_000);
});
