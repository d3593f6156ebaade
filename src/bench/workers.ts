import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pipelineEnv, watchChild } from './children.js';

/** The CLI a user runs (`toolgate serve`), as make builds it. */
export const CLI_ENTRY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface WorkersSpec {
  readonly workers: number;
  readonly bundleDir: string;
  readonly jwksFile: string;
  readonly stateDir: string;
  /** The Redis the processes share nonces, limits, approvals and uploads through (the bench's own server). */
  readonly redisUrl: string;
  /** Unique per gateway started, so two never share keys. */
  readonly redisPrefix: string;
}

export interface WorkersGateway {
  readonly url: string;
  /** The primary; its workers are its child processes (treeCpuMs counts them). */
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * `toolgate serve --workers N` as a user deploys it on an N-core machine (src/server/cluster.ts): N gateway
 * processes on one port, state shared in Redis, each with its own audit file; the same configuration as the bench's
 * one-process pipeline otherwise (no OTLP endpoint, no Kafka). Resolves once the primary prints where it listens.
 */
export async function startWorkersGateway(spec: WorkersSpec, timeoutMs = 60_000): Promise<WorkersGateway> {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` (make bench does) before the bench.`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    ...pipelineEnv(spec),
    TOOLGATE_REDIS_URL: spec.redisUrl,
    TOOLGATE_REDIS_PREFIX: spec.redisPrefix,
    TOOLGATE_KAFKA_BROKERS: '',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
  };
  delete env.TOOLGATE_CONFIG;
  const child: ChildProcess = spawn(process.execPath, [CLI_ENTRY, 'serve', '--workers', String(spec.workers)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const { stderr, exited, kill } = watchChild(child);
  // Killed with this process if it exits first; the workers exit when their primary's IPC channel closes.
  process.once('exit', kill);
  void exited.then(() => process.removeListener('exit', kill));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`serve --workers ${spec.workers} did not listen in ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      kill();
      reject(new Error(`${error.message}${stderr.length ? `\n${stderr.join('\n')}` : ''}`));
    };
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`serve --workers ${spec.workers} exited (${signal ?? code}) before listening`));
    child.once('error', fail);
    child.once('exit', early);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { listening?: string };
        if (typeof m.listening === 'string') {
          clearTimeout(timer);
          child.removeListener('exit', early);
          resolve(m.listening);
        }
      } catch {
        // a log line, not the start line
      }
    });
  });
  child.stdout?.resume();
  return {
    url,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM drains every worker (at most 10 s each for calls still in flight); SIGKILL after 20 s.
      const timer = setTimeout(kill, 20_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}
