import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';

export type RedisTarget = { url: string; stop: () => Promise<void> } | { skip: string } | { fail: string };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts a throwaway redis-server on a free loopback port; resolves once it logs that it accepts connections. */
async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve(true);
      });
      child.once('exit', () => resolve(false));
    });
    if (ready) {
      return {
        url: `redis://127.0.0.1:${port}`,
        stop: () => new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
      };
    }
    // Lost the race for the port to another process: try another.
    if (attempt >= 4) throw new Error('redis-server did not start');
  }
}

/**
 * Where the Redis tests run: TOOLGATE_REDIS_URL when set (the shared services); otherwise our own instance. With
 * TOOLGATE_INTEGRATION=1 a missing TOOLGATE_REDIS_URL is a failure, never a skip.
 */
export async function redisTarget(): Promise<RedisTarget> {
  const url = process.env.TOOLGATE_REDIS_URL;
  if (url) return { url, stop: async () => undefined };
  if (process.env.TOOLGATE_INTEGRATION === '1') return { fail: 'TOOLGATE_INTEGRATION=1 but TOOLGATE_REDIS_URL is not set: start the services (make services) and export their env (scripts/services.sh env)' };
  if (!hasRedisServer()) return { skip: 'no TOOLGATE_REDIS_URL and no redis-server on PATH' };
  return startRedis();
}
