import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A Sentinel topology of the test's own (scripts/redis-ha.sh): free ports, a temp dir, stopped by down(). */
export interface SentinelTopology {
  /** TOOLGATE_REDIS_URL for it: redis+sentinel://127.0.0.1:p1,p2,p3/<name>. */
  readonly url: string;
  readonly nodePorts: readonly number[];
  /** The port of the node the sentinels currently name primary. */
  primaryPort(): Promise<number | undefined>;
  /** The pid of the redis-server on `port`. */
  pidOf(port: number): number;
  /** Starts the node on `port` again (after a kill -9) from its config; the sentinels make it a replica. */
  restart(port: number): Promise<void>;
  /** Replicas online at the current primary, as it reports them (INFO replication). */
  onlineReplicas(): Promise<number>;
  /** `SENTINEL <args> <name>` asked of the first sentinel, e.g. sentinel('failover'). */
  sentinel(...args: string[]): Promise<string>;
  /** The script's status output (for failure messages). */
  status(): Promise<string>;
  down(): Promise<void>;
}

/** n distinct free loopback ports: all bound at once (so no two are the same), then released. */
async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', resolve);
      });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export function haveSentinel(): boolean {
  try {
    execFileSync('redis-sentinel', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts one primary, two replicas and three sentinels with `scripts/redis-ha.sh up` and resolves once the
 * sentinels agree. The processes are daemons: down() stops them, and so does this process's exit (a crashed or
 * interrupted test run must not leave six redis processes behind).
 */
export async function startSentinelTopology(downAfterMs = 1000): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-redis-ha-'));
  const ports = await freePorts(6);
  const nodePorts = ports.slice(0, 3);
  const sentinelPorts = ports.slice(3);
  const name = 'toolgate-test';
  const env = {
    ...process.env,
    TOOLGATE_REDIS_HA_DIR: dir,
    TOOLGATE_REDIS_HA_PORTS: nodePorts.join(','),
    TOOLGATE_REDIS_HA_SENTINEL_PORTS: sentinelPorts.join(','),
    TOOLGATE_REDIS_HA_NAME: name,
    TOOLGATE_REDIS_HA_DOWN_AFTER_MS: String(downAfterMs),
    TOOLGATE_REDIS_HA_FAILOVER_MS: '10000',
  };
  const script = (cmd: string) => exec('bash', ['scripts/redis-ha.sh', cmd], { env, timeout: 60_000 });
  const pidOf = (port: number): number => Number(readFileSync(join(dir, `node-${port}.pid`), 'utf8').trim());
  const killAll = (): void => {
    for (const p of [...nodePorts.map((n) => `node-${n}`), ...sentinelPorts.map((s) => `sentinel-${s}`)]) {
      try {
        process.kill(Number(readFileSync(join(dir, `${p}.pid`), 'utf8').trim()), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killAll);
  try {
    await script('up');
  } catch (error) {
    killAll();
    throw error;
  }
  const primaryPort = async (): Promise<number | undefined> => {
    for (const p of sentinelPorts) {
      try {
        const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(p), 'sentinel', 'get-master-addr-by-name', name], { timeout: 2000 });
        const port = Number(stdout.trim().split('\n')[1]);
        if (Number.isInteger(port) && port > 0) return port;
      } catch {
        // ask the next sentinel
      }
    }
    return undefined;
  };
  return {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${name}`,
    nodePorts,
    pidOf,
    primaryPort,
    restart: async (port) => {
      await exec('redis-server', [join(dir, `node-${port}.conf`)], { timeout: 10_000 });
    },
    onlineReplicas: async () => {
      const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(await primaryPort()), 'info', 'replication'], { timeout: 2000 });
      return stdout.split('\n').filter((l) => /^slave\d+:.*state=online/.test(l)).length;
    },
    sentinel: async (...args) => (await exec('redis-cli', ['-h', '127.0.0.1', '-p', String(sentinelPorts[0]), 'sentinel', ...args, name], { timeout: 5000 })).stdout.trim(),
    status: async () => (await script('status').catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout,
    down: async () => {
      try {
        await script('down');
      } finally {
        killAll();
        process.off('exit', killAll);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
