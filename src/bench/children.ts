import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MemoryReading } from './types.js';

export type ServerSpec =
  | { readonly kind: 'bare' }
  /** Bare Express with the audit file's durable write of a decision before each tool call (apps.ts). */
  | { readonly kind: 'durable'; readonly stateDir: string }
  | { readonly kind: 'pipeline'; readonly bundleDir: string; readonly jwksFile: string; readonly stateDir: string }
  /** The pipeline with each decision asked of OPA over REST (fair-sidecar.ts). */
  | { readonly kind: 'fair'; readonly opaUrl: string; readonly bundleDir: string; readonly jwksFile: string; readonly stateDir: string }
  | { readonly kind: 'sidecar'; readonly opaUrl: string; readonly jwksFile: string };

/** The server process's event-loop delay since the last reset (perf_hooks.monitorEventLoopDelay), in ms. */
export interface LoopDelay {
  readonly maxMs: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

export type ChildMessage = { listening: number } | { error: string } | { stopped: true } | { loopDelay: LoopDelay } | { memory: MemoryReading };

/** The values both the gateway and the sidecar app put in input.context, so they decide on the same document. */
export const BENCH_CONTEXT = { environment: 'development', timezone: 'UTC', gatewayId: 'bench' } as const;

/**
 * The compiled child entry. Resolved from the repo root so it is the same file whether this module runs from
 * dist/bench (make bench) or from src/bench under vitest, which cannot fork TypeScript with .js imports.
 */
export const SERVER_ENTRY = fileURLToPath(new URL('../../dist/bench/server.js', import.meta.url));

export interface ServerChild {
  readonly kind: ServerSpec['kind'];
  readonly url: string;
  readonly pid: number;
  /** Reads the server's event-loop delay since the previous call and starts a new measurement. */
  loopDelay(): Promise<LoopDelay>;
  /** Reads the server's memory; with `gc`, after a full garbage collection in that process (live memory only). */
  memory(gc: boolean): Promise<MemoryReading>;
  /** The server's last stderr lines (its warnings and errors), for a failure's message. */
  readonly stderr: readonly string[];
  stop(): Promise<void>;
}

const STDERR_TAIL = 20;

/**
 * The configuration every pipeline server of the bench runs with, as `toolgate serve` reads it from the
 * environment: one function, so the one-process pipeline (server.ts) and the one-process-per-core one (workers.ts)
 * are configured alike.
 */
export function pipelineEnv(spec: { readonly bundleDir: string; readonly jwksFile: string; readonly stateDir: string }): Record<string, string> {
  return {
    PORT: '0',
    TOOLGATE_STATE_DIR: spec.stateDir,
    TOOLGATE_POLICY_BUNDLE: spec.bundleDir,
    TOOLGATE_AGENT_KEYS: spec.jwksFile,
    TOOLGATE_GATEWAY_ID: BENCH_CONTEXT.gatewayId,
    TOOLGATE_ENVIRONMENT: BENCH_CONTEXT.environment,
    TOOLGATE_TIMEZONE: BENCH_CONTEXT.timezone,
    // Where signatures are checked, when the operator chose (unset: the gateway's default for the deployment).
    ...(process.env.TOOLGATE_SIGNATURE_CHECK ? { TOOLGATE_SIGNATURE_CHECK: process.env.TOOLGATE_SIGNATURE_CHECK } : {}),
  };
}

/** A started child's last stderr lines (for a start failure's message), its exit, and a kill that is safe to repeat. */
export function watchChild(child: ChildProcess): { readonly stderr: readonly string[]; readonly exited: Promise<void>; kill(): void } {
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(...chunk.split('\n').filter(Boolean));
    stderr.splice(0, Math.max(0, stderr.length - STDERR_TAIL));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { stderr, exited, kill };
}

/** Forks one server under test and resolves with its URL once it listens on a free port (bounded in time). */
export async function startServerChild(spec: ServerSpec, timeoutMs = 30_000, execArgv: readonly string[] = []): Promise<ServerChild> {
  if (!existsSync(SERVER_ENTRY)) throw new Error(`${SERVER_ENTRY} is missing: run \`npm run build\` (make bench does) before the bench.`);
  // execArgv [] by default so a child never inherits a test runner's loader flags (the profile passes --cpu-prof).
  const child: ChildProcess = fork(SERVER_ENTRY, [], { execArgv: [...execArgv], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
  const { stderr, exited, kill } = watchChild(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${spec.kind} server did not start in ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      kill();
      reject(new Error(`${error.message}${stderr.length ? `\n${stderr.join('\n')}` : ''}`));
    };
    const early = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`${spec.kind} server exited (${signal ?? code}) before listening`));
    child.once('error', fail);
    child.once('exit', early);
    child.on('message', (msg: ChildMessage) => {
      if ('listening' in msg) {
        clearTimeout(timer);
        child.removeListener('exit', early);
        resolve(msg.listening);
      } else if ('error' in msg) fail(new Error(`${spec.kind} server failed to start: ${msg.error}`));
    });
    child.send({ start: spec });
  });
  return {
    kind: spec.kind,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stderr,
    loopDelay: () => ask(child, { loopDelay: true }, (msg) => ('loopDelay' in msg ? msg.loopDelay : undefined)),
    memory: (gc) => ask(child, { memory: { gc } }, (msg) => ('memory' in msg ? msg.memory : undefined)),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(kill, 10_000);
      if (child.connected) child.send({ stop: true });
      else kill();
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends one request over the IPC channel and resolves with the first answer `pick` recognises. */
function ask<T>(child: ChildProcess, request: object, pick: (msg: ChildMessage) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (msg: ChildMessage) => {
      const answer = pick(msg);
      if (answer === undefined) return;
      child.off('message', onMessage);
      resolve(answer);
    };
    child.on('message', onMessage);
    child.send(request, (error) => {
      if (!error) return;
      child.off('message', onMessage);
      reject(error);
    });
  });
}
