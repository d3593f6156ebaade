import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { ed25519Thumbprint, loadEd25519PrivateKey } from '../../src/audit/chain.js';
import { KafkaSink } from '../../src/audit/kafka-sink.js';
import { readTopic } from '../../src/audit/topic-reader.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { verifyEvents } from '../../src/audit/verify.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestKafkaCluster } from '../helpers/kafka-cluster.js';
import { integration, waitFor } from '../helpers/services.js';

/**
 * The replicated topology under faults: a 3-broker KRaft cluster of our own, a gateway with durability `kafka`
 * (a caller's answer waits for the acknowledgement of every in-sync replica), steady signed load, then kill -9 of
 * the audit partition's leader, of a second broker, and both back. Every decision a caller saw is on the topic,
 * none twice after de-duplication; no 5xx while two of three brokers are up; 503 below min.insync.replicas with
 * nothing executed; recovery without restarting the gateway. Prints the callers' latency around each failover.
 */
const ACK_TIMEOUT_MS = 8_000;
const TOPIC = 'toolgate.audit.ha';

interface Call {
  readonly n: number;
  readonly start: number;
  readonly end: number;
  readonly status: number;
  readonly reason: string | undefined;
  readonly decisionId: string | null;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe.runIf(integration)('audit on a 3-broker Kafka cluster, brokers killed under load', () => {
  let cluster: TestKafkaCluster | undefined;
  let gw: TestGateway | undefined;
  const executed = new Set<number>();
  const calls: Call[] = [];
  let loaders: Promise<void>[] = [];
  /** The gateway's warnings (the spool's forwarding errors): shown when a wait fails. */
  const gatewayLog: string[] = [];
  let stop = false;

  beforeAll(async () => {
    cluster = await TestKafkaCluster.start();
  }, 180_000);

  afterAll(async () => {
    stop = true;
    await Promise.allSettled(loaders); // callers finish before the gateway closes under them
    await gw?.close().catch(() => undefined);
    await cluster?.down();
  }, 120_000);

  const env = () => ({
    TOOLGATE_KAFKA_BROKERS: cluster!.brokers.join(','),
    TOOLGATE_AUDIT_DURABILITY: 'kafka',
    TOOLGATE_AUDIT_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
    TOOLGATE_KAFKA_REPLICATION_FACTOR: '3',
  });

  it('refuses to start on an audit topic weaker than required, saying what is wrong', async () => {
    const admin = cluster!.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'toolgate.audit.weak', numPartitions: 1, replicationFactor: 1 }] });
    } finally {
      await admin.disconnect();
    }
    await expect(startTestGateway({ ...env(), TOOLGATE_AUDIT_TOPIC: 'toolgate.audit.weak' })).rejects.toMatchObject({
      reason: 'audit_topic_replication_low',
      message: expect.stringMatching(/has 1 replica\(s\); toolgate requires 3.*TOOLGATE_KAFKA_TOPIC_CHECK=warn/s),
    });
  });

  it('keeps every seen decision through a leader crash and a second broker crash, fails closed below min ISR', async () => {
    gw = await startTestGateway({ ...env(), TOOLGATE_AUDIT_TOPIC: TOPIC }, {
      tools: { 'memory.read': (args) => { executed.add(Number(args.n)); return { records: [] }; } },
      logger: { warn: (m, f) => gatewayLog.push(`${performance.now().toFixed(0)} ${m} ${JSON.stringify(f)}`), error: (m, f) => gatewayLog.push(`${performance.now().toFixed(0)} ${m} ${JSON.stringify(f)}`) },
    });
    const admin = cluster!.admin();
    await admin.connect();
    try {
      // Created by the gateway with the replicated settings.
      const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
      for (const p of meta.topics[0]!.partitions) expect(p.replicas).toHaveLength(3);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: TOPIC }] });
      expect(configs.resources[0]!.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe('2');

      // Steady signed load, paced below the policy's memory.read rate limit (120 a minute per agent) for the
      // allowed calls so they keep reaching the audit step: two callers of allowed reads, one every 1.4 s each,
      // and two of refusals (another owner's memory), one every 100 ms each. A refusal is a decision too, and in
      // durability `kafka` its answer also waits for the acknowledgement. (The pacing shapes the load; every
      // wait for an outcome below polls a condition.)
      let seq = 0;
      const caller = async (allowed: boolean, everyMs: number) => {
        const agent = new AgentClient({ baseUrl: gw!.url, privateJwk: gw!.agents.keys['room-assistant'] });
        let next = performance.now();
        while (!stop) {
          const n = seq++;
          const args = allowed ? { scope: 'user', owner: 'u1', on_behalf_of: 'u1', n } : { scope: 'user', owner: 'u2', on_behalf_of: 'u1', n };
          const start = performance.now();
          const r = await agent.callTool('memory.read', args);
          const reason = (r.body as { reason?: string } | undefined)?.reason;
          calls.push({ n, start, end: performance.now(), status: r.status, reason, decisionId: r.decisionId });
          next = Math.max(next + everyMs, performance.now());
          await new Promise((resolve) => setTimeout(resolve, next - performance.now()));
        }
      };
      loaders = [caller(true, 1_400), caller(true, 1_400), caller(false, 100), caller(false, 100)];
      // Progress: events the topic committed (its high watermark: written to every in-sync replica), plus allowed
      // answers (a refusal is answered even when its event is only spooled; an allowed call only once acknowledged).
      const committed = async () => (await admin.fetchTopicOffsets(TOPIC)).reduce((sum, o) => sum + Number(o.high), 0);
      const allowedSince = (t: number) => calls.filter((c) => c.start >= t && c.status === 200).length;
      const progress = async (what: string, since: number, timeoutMs: number) => {
        const base = await waitFor('the topic offsets', committed);
        let last: unknown = base;
        await waitFor(what, async () => {
          last = await committed().catch((e: unknown) => String(e));
          return typeof last === 'number' && last >= base + 60 && allowedSince(since) >= 3 ? true : undefined;
        }, timeoutMs).catch(async (e: unknown) => {
          const statuses = calls.filter((c) => c.start >= since).map((c) => c.status).join(' ');
          // What the controllers recorded: fencing, the partition's leader and ISR changes, elections.
          const decided = cluster!.logExcerpt(/[Ff]enc|PartitionChangeRecord|PartitionRecord|ISR|[Ee]lect|session has timed out|toolgate\.audit\.ha/);
          const javaView = await cluster!.describeWithJavaClient(TOPIC);
          throw new Error(`${String(e)}\ncommitted: ${base} at the start, ${String(last)} last; answers since: ${statuses}\n${await clusterView()}\nthe Java client's view:\n${javaView}\nat ${performance.now().toFixed(0)}, gateway log:\n${gatewayLog.slice(-15).join('\n')}\ncluster log:\n${decided.join('\n')}`);
        });
      };

      // On a stall, what the cluster says now: whether the partition has a leader and in-sync replicas (a cluster
      // that lost them, e.g. a broker fenced under CPU starvation) or has them while the gateway still cannot write.
      const clusterView = async (): Promise<string> => {
        try {
          const { brokers, controller } = await admin.describeCluster();
          const m = await admin.fetchTopicMetadata({ topics: [TOPIC] });
          const parts = m.topics[0]!.partitions.map((p) => `p${p.partitionId} leader ${p.leader} isr [${p.isr.join(',')}] error ${p.partitionErrorCode}`);
          return `cluster now: brokers [${brokers.map((b) => b.nodeId).join(',')}], controller ${controller}; ${parts.join('; ')}`;
        } catch (error) {
          return `cluster now: unreadable (${String(error)})`;
        }
      };
      const partitionOf = async () => {
        const offsets = await admin.fetchTopicOffsets(TOPIC);
        const used = offsets.find((o) => Number(o.high) > 0);
        if (!used) return undefined;
        const m = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return m.topics[0]!.partitions.find((p) => p.partitionId === used.partition);
      };
      const t0 = performance.now();
      await progress('60 events committed with the full cluster', t0, 30_000);
      const before = await waitFor('the audit partition fully in sync', async () => {
        const p = await partitionOf();
        return p && p.isr.length === 3 ? p : undefined;
      });

      // 1. kill -9 the partition leader: the two others elect a new one; nobody sees a 5xx.
      const first = before.leader;
      // An unrelated single-replica topic on the broker about to die, offline from the kill on. kafkajs fails a whole
      // metadata answer on any partition without a leader; the audit path must not depend on the rest of the cluster
      // (a producer that replaced a failed one asked for every topic and stalled until the broker came back).
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'scratch.single-replica', replicaAssignment: [{ partition: 0, replicas: [first] }] }] });
      const tKill1 = performance.now();
      await cluster!.kill(first);
      const after1 = await waitFor('a new leader for the audit partition', async () => {
        const p = await partitionOf();
        return p && p.leader !== first && p.leader >= 0 ? p : undefined;
      }, 60_000);
      const tLeader = performance.now();
      await progress('60 events committed with two brokers', tLeader, 60_000);

      // Another gateway starts now. kafkajs fails any answer that lists the whole cluster while that unrelated
      // partition has no leader (shown first); the audit sink's topic check asks about its topic by name.
      await waitFor('the unrelated partition offline, as kafkajs sees the whole cluster', async () => {
        // Seeded with the live brokers (node n listens on brokers[n - 1]): no retry that could hide the failure.
        const live = cluster!.brokers.filter((_, i) => i + 1 !== first);
        const listing = new Kafka({ clientId: 'toolgate-test-list', brokers: live, logLevel: logLevel.NOTHING, connectionTimeout: 2_000, retry: { retries: 0 } }).admin();
        await listing.connect();
        try {
          // kafkajs gives up after its retries with the "no leader" error as the cause.
          return await listing.listTopics().then(() => undefined, (e: { type?: string; cause?: { type?: string }; message?: string }) => {
            if ((e.cause ?? e).type === 'LEADER_NOT_AVAILABLE') return true;
            throw new Error(`listing the cluster failed, but not for a partition without a leader: ${e.message}`);
          });
        } finally {
          await listing.disconnect();
        }
      }, 30_000);
      const starting = new KafkaSink({ brokers: cluster!.brokers, topic: TOPIC, clientId: 'toolgate-test-second', key: 'second', durability: { replicationFactor: 3 } });
      await starting.open();
      await starting.close();

      // 2. kill -9 a second broker, one of the in-sync followers: one replica left, below min.insync.replicas=2.
      const second = after1.isr.find((id) => id !== after1.leader && id !== first) ?? after1.replicas.find((id) => id !== after1.leader && id !== first)!;
      const tKill2 = performance.now();
      await cluster!.kill(second);
      await waitFor('allowed calls refused with 503', async () => {
        const refused = calls.filter((c) => c.start > tKill2 && c.status === 503);
        return refused.length >= 2 ? true : undefined;
      }, 60_000);

      // 3. both back: the gateway recovers without a restart.
      const tBack = performance.now();
      const served: number[] = [];
      await Promise.all([first, second].map(async (id) => { await cluster!.restart(id); served.push(performance.now()); }));
      const tServing = performance.now();
      await progress('60 events committed after the brokers came back', tServing, 90_000);
      stop = true;
      await Promise.all(loaders);

      // --- what callers saw
      const fivexx = calls.filter((c) => c.status >= 500);
      expect(calls.filter((c) => c.end < tKill2 && c.status >= 500), 'no 5xx while two of three brokers were up').toEqual([]);
      for (const c of fivexx) {
        expect(c.status).toBe(503);
        expect(c.reason).toBe('audit_unavailable');
        expect(executed.has(c.n), `call ${c.n} answered 503 but its tool ran`).toBe(false);
      }
      const firstBack = calls.filter((c) => c.start >= tBack && c.status === 200).sort((a, b) => a.end - b.end)[0]!;
      expect(calls.filter((c) => c.start >= firstBack.end && c.status >= 500), 'no 5xx once recovered').toEqual([]);
      for (const c of calls.filter((c) => c.status < 500)) expect([200, 403, 429], JSON.stringify(c)).toContain(c.status);
      const seen = new Set(calls.filter((c) => c.status < 500 && c.decisionId).map((c) => c.decisionId!));

      // --- what the topic holds
      const events = await waitFor('every seen decision on the topic', async () => {
        const got: AuditEvent[] = [];
        await readTopic({ brokers: cluster!.brokers, topic: TOPIC, timeoutMs: 30_000 }, (e) => { if (e) got.push(e); });
        const ids = new Set(got.filter((e) => e.type === 'decision').map((e) => e.decision_id));
        return [...seen].every((id) => ids.has(id)) ? got : undefined;
      }, 90_000, 1_000);
      const unique = new Map<string, AuditEvent>();
      for (const e of events) unique.set(`${e.chain.seq}|${e.chain.hash}`, e);
      const decisions = [...unique.values()].filter((e) => e.type === 'decision');
      const perId = new Map<string, AuditEvent[]>();
      for (const e of decisions) perId.set(e.decision_id, [...(perId.get(e.decision_id) ?? []), e]);
      for (const id of seen) expect(perId.get(id), `decision ${id} on the topic exactly once`).toHaveLength(1);
      // A call answered 503 may leave two events: the allow that was spooled but not acknowledged in time (it is
      // delivered later), then the refusal the caller got. Never more, and never for an answer a caller saw.
      const refusedIds = new Set(fivexx.map((c) => c.decisionId));
      for (const [id, es] of perId) {
        if (es.length > 1) {
          expect(refusedIds.has(id), `decision ${id} twice on the topic, but its caller was not refused`).toBe(true);
          expect(es).toHaveLength(2);
        }
      }
      const key = createPublicKey(loadEd25519PrivateKey(readFileSync(gw.config.audit.keyFile, 'utf8')));
      const report = verifyEvents(events, new Map([[ed25519Thumbprint(key), key]]));
      expect(report.ok, JSON.stringify(report.chains)).toBe(true);

      // --- the latency spikes, measured
      const firstAfter = (t: number) => Math.min(...calls.filter((c) => c.start >= t && c.status === 200).map((c) => c.end));
      const lat = (from: number, to: number) => calls.filter((c) => c.start >= from && c.start < to).map((c) => c.end - c.start);
      const line = (label: string, xs: number[]) => `${label.padEnd(34)} n=${String(xs.length).padStart(4)}  p50=${percentile(xs, 50).toFixed(0).padStart(5)} ms  p99=${percentile(xs, 99).toFixed(0).padStart(5)} ms  max=${Math.max(...xs).toFixed(0).padStart(5)} ms`;
      console.log([
        `kafka-cluster fault test: ${calls.length} calls, ${seen.size} decisions seen, ${fivexx.length} answered 503 (all while 1 of 3 brokers was up)`,
        line('steady, 3 brokers', lat(t0, tKill1)),
        line('leader killed (from -1 s to kill 2)', lat(tKill1 - 1_000, tKill2)),
        `  first allowed answer after the leader kill: +${(firstAfter(tKill1) - tKill1).toFixed(0)} ms (new leader seen at +${(tLeader - tKill1).toFixed(0)} ms)`,
        line('second killed (1 of 3 up)', lat(tKill2, tBack)),
        line('  of which 503', calls.filter((c) => c.start >= tKill2 && c.start < tBack && c.status >= 500).map((c) => c.end - c.start)),
        `  recovery: restarted brokers serving at +${served.map((t) => (t - tBack).toFixed(0)).join(' and +')} ms (JVM start), first allowed answer at +${(firstBack.end - tBack).toFixed(0)} ms`,
        line('after recovery', lat(firstBack.end, Number.POSITIVE_INFINITY)),
      ].join('\n'));
    } finally {
      stop = true;
      await admin.disconnect();
    }
  }, 240_000);
});
