import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { freePort } from '../../src/bench/opa.js';

const exec = promisify(execFile);

/**
 * A test's own 3-node Kafka (scripts/kafka-cluster.sh, the script `TOOLGATE_KAFKA_NODES=3 make services` runs) on
 * free ports in a temp dir. Its JVMs are killed when the test process exits, even if the test never gets to `down`.
 */
export class TestKafkaCluster {
  readonly brokers: string[];
  readonly #env: Record<string, string>;
  readonly #dir: string;
  readonly #onExit = () => this.#killAllSync();

  private constructor(dir: string, ports: number[], controllerPorts: number[]) {
    this.#dir = dir;
    this.brokers = ports.map((p) => `127.0.0.1:${p}`);
    this.#env = {
      TOOLGATE_KAFKA_CLUSTER_DIR: dir,
      TOOLGATE_KAFKA_CLUSTER_PORTS: ports.join(','),
      TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS: controllerPorts.join(','),
    };
  }

  static async start(): Promise<TestKafkaCluster> {
    const ports: number[] = [];
    while (ports.length < 6) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const cluster = new TestKafkaCluster(mkdtempSync(join(tmpdir(), 'toolgate-kafka3-')), ports.slice(0, 3), ports.slice(3));
    process.once('exit', cluster.#onExit);
    await cluster.run('up');
    return cluster;
  }

  /** scripts/kafka-cluster.sh with this cluster's ports and dir. */
  async run(...args: string[]): Promise<string> {
    const { stdout } = await exec('bash', ['scripts/kafka-cluster.sh', ...args], { env: { ...process.env, ...this.#env }, timeout: 150_000 });
    return stdout;
  }

  /** SIGKILL node `id` (its broker id): a crash, no clean shutdown. */
  kill(id: number): Promise<string> {
    return this.run('kill', String(id));
  }

  /** Starts node `id` again; resolves once it serves clients. */
  restart(id: number): Promise<string> {
    return this.run('start', String(id));
  }

  /**
   * The last `max` lines of every node's own log (the JVM's stdout: controller records, fencing, partition changes)
   * that match `pattern`, oldest first, each with its node: what the cluster decided, for a test that stalled.
   */
  logExcerpt(pattern: RegExp, max = 40): string[] {
    // Kafka's lines begin with [yyyy-MM-dd HH:mm:ss,SSS]: sorting by that text orders them in time across nodes (the
    // configuration dump at start has none and is left out).
    const at = (line: string) => /\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]/.exec(line)?.[1] ?? '';
    const lines: string[] = [];
    for (const n of [1, 2, 3]) {
      try {
        for (const line of readFileSync(join(this.#dir, `node-${n}`, 'log'), 'utf8').split('\n')) if (at(line) && pattern.test(line)) lines.push(`node ${n}: ${line.slice(0, 400)}`);
      } catch {
        // no log yet
      }
    }
    return lines.sort((a, b) => at(a).localeCompare(at(b))).slice(-max);
  }

  /**
   * The topic as Kafka's own Java client sees it (`kafka-topics --describe`: leader, replicas, ISR, ELR per partition),
   * or why that failed. Beside kafkajs's view, it tells a cluster without a leader from a client that cannot see one.
   */
  async describeWithJavaClient(topic: string): Promise<string> {
    try {
      const home = (await exec('bash', ['scripts/kafka.sh'], { env: process.env, timeout: 60_000 })).stdout.trim();
      const { stdout, stderr } = await exec(join(home, 'bin', 'kafka-topics'), ['--bootstrap-server', this.brokers.join(','), '--describe', '--topic', topic], { timeout: 60_000 });
      return `${stdout}${stderr}`.trim();
    } catch (error) {
      return `kafka-topics --describe failed: ${String(error)}`;
    }
  }

  admin(): Admin {
    return new Kafka({ clientId: 'toolgate-test-admin', brokers: this.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 2_000, retry: { retries: 2 } }).admin();
  }

  async down(): Promise<void> {
    try {
      await this.run('down');
    } finally {
      this.#killAllSync();
      process.off('exit', this.#onExit);
      if (!process.env.KEEP_CLUSTER) rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  #killAllSync(): void {
    for (const n of [1, 2, 3]) {
      try {
        const pid = Number(readFileSync(join(this.#dir, `node-${n}`, 'pid'), 'utf8'));
        // Only our JVM: its command line names this cluster's dir (a pidfile may outlive its process).
        if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.#dir)) process.kill(pid, 'SIGKILL');
      } catch {
        // not started, or already gone
      }
    }
  }
}
