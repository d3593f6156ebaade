import cluster, { type Worker } from 'node:cluster';
import { hostname } from 'node:os';
import { join, parse } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadOrCreateSigningKey } from '../gateway/options.js';
import { DEFAULT_CHECK_PLACEMENT } from '../identity/check-placement.js';
import type { Logger } from '../logger.js';
import type { ServerConfig } from './config.js';

/** What a worker tells the primary once it listens. */
export interface WorkerReady {
  readonly type: 'toolgate-listening';
  readonly url: string;
  readonly policy: string | null;
}

export interface ClusterStarted {
  readonly url: string;
  readonly policy: string | null;
  readonly gatewayId: string;
  /** One audit file per worker (each its own hash chain). */
  readonly auditFiles: readonly string[];
  /** SIGTERM to every worker, which drains (in-flight calls finish, the audit is flushed); resolves once all exited. */
  stop(): Promise<void>;
  /** Forwards SIGHUP (reread the configuration, apply its policy rollout) to every worker. */
  reload(): void;
}

// A worker that has not exited this long after SIGTERM is killed: a drain is seconds, never minutes.
const DRAIN_MS = 30_000;

/**
 * The settings that differ per worker. The audit is a hash chain per gateway instance (chain.instance), appended
 * by one writer: two processes appending to one chain would fork it. So each worker is its own instance:
 * gateway id `<id>-w<i>` and its own audit file and spool; `toolgate audit verify` checks each chain (file by file,
 * or all of them on the Kafka topic, where verify separates chains by instance). The index is stable across a
 * worker's restart, so a restarted worker continues its chain.
 */
export function workerEnv(config: ServerConfig, index: number, workers = 1): Record<string, string> {
  const base = config.gatewayId ?? `toolgate-${hostname()}`;
  const fileOf = (i: number) => {
    const file = parse(config.audit.file);
    return join(file.dir, `${file.name}.w${i}${file.ext}`);
  };
  // Each worker's console shows every worker's decisions: with the file sink it reads all their files (unless the
  // operator named the files; with Kafka the topic holds them all).
  const consoleFiles: Record<string, string> = config.console.enabled && !config.audit.kafka && config.console.auditFiles === undefined
    ? { TOOLGATE_CONSOLE_AUDIT_FILES: Array.from({ length: workers }, (_, i) => fileOf(i + 1)).join(',') }
    : {};
  return {
    TOOLGATE_GATEWAY_ID: `${base}-w${index}`,
    TOOLGATE_AUDIT_FILE: fileOf(index),
    TOOLGATE_AUDIT_SPOOL_DIR: join(config.audit.spoolDir, `w${index}`),
    TOOLGATE_SIGNATURE_CHECK: config.signatureCheck ?? DEFAULT_CHECK_PLACEMENT,
    ...consoleFiles,
  };
}

/**
 * Runs `workers` gateway processes (node:cluster) sharing one port: the primary accepts connections and hands
 * them to the workers in turn. State a call depends on (nonces, limits, approvals, uploads, MCP session owners) must
 * be shared, so Redis is required. Resolves once every worker listens; a worker that dies later is restarted.
 */
export async function startCluster(config: ServerConfig, workers: number, logger: Logger): Promise<ClusterStarted> {
  if (!config.redisUrl) {
    throw new ConfigError('workers_need_redis', `--workers ${workers} runs ${workers} gateway processes, which must share replay nonces, limits, approvals, uploads and MCP sessions: set TOOLGATE_REDIS_URL (redis://host:6379 or redis+sentinel://...), or run one process (--workers 1).`);
  }
  // Created once here: workers creating a missing key at the same time would each write a different one.
  loadOrCreateSigningKey(config.audit.keyFile);
  let stopping = false;
  const live = new Map<number, Worker>();
  // Only a worker that once listened is restarted: one that cannot start at all would fail again at once.
  const listened = new Set<number>();
  // Exits of each worker since it last listened: a worker that keeps dying is restarted ever later (0.1 s doubling,
  // up to 10 s), not in a loop that takes the machine's cores from the others.
  const failures = new Map<number, number>();
  const pending = new Set<NodeJS.Timeout>();
  const fork = (index: number): Worker => {
    const worker = cluster.fork(workerEnv(config, index, workers));
    live.set(index, worker);
    worker.on('message', (m: WorkerReady) => {
      if (m?.type === 'toolgate-listening') failures.delete(index);
    });
    worker.on('exit', (code, signal) => {
      if (live.get(index) === worker) live.delete(index);
      if (stopping || !listened.has(index)) return;
      const n = (failures.get(index) ?? 0) + 1;
      failures.set(index, n);
      const delayMs = Math.min(100 * 2 ** (n - 1), 10_000);
      logger.error('gateway worker exited; starting it again', { worker: index, code, signal, delayMs });
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!stopping) fork(index);
      }, delayMs);
      pending.add(timer);
    });
    return worker;
  };
  const ready = (worker: Worker, index: number) => new Promise<WorkerReady>((resolve, reject) => {
    worker.on('message', (m: WorkerReady) => {
      if (m?.type !== 'toolgate-listening') return;
      listened.add(index);
      resolve(m);
    });
    worker.once('exit', (code) => reject(new ConfigError('worker_start_failed', `gateway worker ${index} exited with code ${code} before listening; its error is printed above.`)));
  });
  const indexes = Array.from({ length: workers }, (_, i) => i + 1);
  let started: WorkerReady[];
  try {
    started = await Promise.all(indexes.map((i) => ready(fork(i), i)));
  } catch (error) {
    stopping = true;
    await stopAll([...live.values()]);
    throw error;
  }
  return {
    url: started[0]!.url,
    policy: started[0]!.policy,
    gatewayId: config.gatewayId ?? `toolgate-${hostname()}`,
    auditFiles: indexes.map((i) => workerEnv(config, i).TOOLGATE_AUDIT_FILE!),
    stop: async () => {
      stopping = true;
      for (const timer of pending) clearTimeout(timer);
      await stopAll([...live.values()]);
    },
    reload: () => {
      for (const w of live.values()) w.process.kill('SIGHUP');
    },
  };
}

async function stopAll(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    if (w.isDead()) return resolve();
    const timer = setTimeout(() => w.process.kill('SIGKILL'), DRAIN_MS);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    w.process.kill('SIGTERM');
  })));
}
