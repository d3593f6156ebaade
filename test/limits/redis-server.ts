import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export interface RedisServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const BINARY = existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server';

/** A free loopback port: bind port 0, read what the kernel chose, release it (redis-server has no --port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a throwaway redis-server (no persistence) on a free loopback port and resolves once it accepts
 * connections. Retries on a new port if another process took the one we picked in between.
 */
export async function startRedisServer(): Promise<RedisServer> {
  let lastOutput = '';
  for (let attempt = 1; attempt <= 4; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
  throw new Error(`redis-server did not start (install Debian's redis-server: apt-get install -y redis-server). Last output:\n${lastOutput}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
