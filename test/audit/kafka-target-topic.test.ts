import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { onClusterCreated, targetTopicFirst, type KafkaCluster } from '../../src/audit/kafka-sink.js';

describe('the audit producer asks Kafka about its own topic only', () => {
  it('finds kafkajs\' cluster factory on the installed version and seeds every cluster it makes with the topic', () => {
    const kafka = new Kafka({ clientId: 't', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    expect(targetTopicFirst(kafka, 'toolgate.audit')).toEqual({ ok: true });
    // The producer's cluster is private to kafkajs; the factory's result is what its metadata requests target.
    const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster')!;
    const cluster = (kafka as unknown as Record<symbol, (o: object) => { targetTopics: Set<string> }>)[key]!({});
    expect([...cluster.targetTopics]).toEqual(['toolgate.audit']);
  });

  it('leaves a client without that factory as it was, and says so', () => {
    const fake = {} as unknown as Kafka;
    expect(targetTopicFirst(fake, 'toolgate.audit')).toEqual({ ok: false });
  });

  it('hands over the admin\'s cluster, whose named metadata request and target topics the topic check uses', () => {
    const kafka = new Kafka({ clientId: 't', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    const made: KafkaCluster[] = [];
    expect(onClusterCreated(kafka, (c) => made.push(c))).toEqual({ ok: true });
    kafka.admin();
    expect(made).toHaveLength(1);
    expect(typeof made[0]!.metadata).toBe('function');
    expect(typeof made[0]!.addTargetTopic).toBe('function');
    expect(made[0]!.targetTopics).toBeInstanceOf(Set);
  });
});
