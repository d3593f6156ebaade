import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './opa.js';

/** A throwaway redis-server of its own: the bench's multi-process gateway and tests that stop their server use it. */
export interface RedisServer {
  readonly url: string;
  /** The server's process, for its CPU time. */
  readonly pid: number;
  stop(): Promise<void>;
}

const BINARY = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';

/**
 * Starts a redis-server with no persistence on a free loopback port and resolves once it accepts connections.
 * Retries on a new port if another process took the one picked in between (redis-server has no --port 0). Killed
 * with this process if stop() was never called.
 */
export async function startRedisServer(): Promise<RedisServer> {
  let lastOutput = '';
  for (let attempt = 1; attempt <= 4; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Killed with this process if it exits first (a run that fails or times out before stop()), never left behind.
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
    const started = await new Promise<boolean>((resolve) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve(true);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (error) => {
        lastOutput = `${output}${String(error)}`;
        resolve(false);
      });
      child.once('exit', () => {
        lastOutput = output;
        resolve(false);
      });
      setTimeout(() => {
        lastOutput = output;
        resolve(false);
      }, 10_000).unref();
    });
    if (started && child.pid !== undefined) {
      child.stdout?.resume();
      child.stderr?.resume();
      return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
    }
    await stopChild(child);
  }
  throw new Error(`redis-server did not start (install it: apt-get install -y redis-server, or scripts/system-deps.sh). Last output:\n${lastOutput}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  // No pid: it never started (spawn failed), so no 'exit' will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
