/**
 * scripts/kafka-cluster.sh's interface without starting a JVM: the bootstrap list it prints for the ports it is
 * given, and the mistakes it refuses with a sentence (the fault test in test/integration/kafka-cluster.test.ts runs
 * the cluster itself).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

function run(env: Record<string, string>, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return exec('bash', ['scripts/kafka-cluster.sh', ...args], { env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ stdout, stderr, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => ({ stdout: e.stdout, stderr: e.stderr, code: e.code }),
  );
}

const ports = { TOOLGATE_KAFKA_CLUSTER_PORTS: '31001,31003,31005', TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS: '31002,31004,31006', TOOLGATE_KAFKA_CLUSTER_DIR: '/nonexistent/toolgate-kafka-cluster' };

describe('scripts/kafka-cluster.sh', () => {
  it('prints the bootstrap list of the ports it is given', async () => {
    expect((await run(ports, 'brokers')).stdout.trim()).toBe('127.0.0.1:31001,127.0.0.1:31003,127.0.0.1:31005');
    expect((await run(ports, 'env')).stdout.trim()).toBe('export TOOLGATE_KAFKA_BROKERS=127.0.0.1:31001,127.0.0.1:31003,127.0.0.1:31005');
  });

  it('defaults to the ports in scripts/env.sh', async () => {
    const env = { TOOLGATE_KAFKA_CLUSTER_PORTS: '', TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS: '' };
    expect((await run(env, 'brokers')).stdout.trim()).toBe('127.0.0.1:19192,127.0.0.1:19194,127.0.0.1:19196');
  });

  it.each([
    [['kill', '4'], /no node '4' \(nodes are 1\.\.3\)/],
    [['start', 'x'], /no node 'x'/],
    [['pid'], /no node ''/],
    [['restart'], /usage: scripts\/kafka-cluster\.sh up\|down\|status\|env\|brokers\|kill N\|start N\|pid N/],
  ])('refuses %j with a sentence', async (args, message) => {
    const r = await run(ports, ...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('refuses port lists of different lengths', async () => {
    const r = await run({ ...ports, TOOLGATE_KAFKA_CLUSTER_CONTROLLER_PORTS: '31002,31004' }, 'brokers');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/must list the same number of ports/);
  });

  it('reports a node that is not running', async () => {
    const r = await run(ports, 'pid', '2');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
  });
});
