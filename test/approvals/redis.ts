import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { integration, waitFor } from '../helpers/services.js';

export interface TestRedis {
  readonly url: string;
  /** A key prefix no other run uses, so tests can share a real Redis. */
  readonly prefix: string;
  stop(): Promise<void>;
}

/**
 * Real Redis for the contract suite: TOOLGATE_REDIS_URL when set; under `make test` (TOOLGATE_INTEGRATION=1) its
 * absence is a failure; otherwise a throwaway `redis-server` on a free loopback port, stopped afterwards.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const prefix = `toolgate-test:${randomBytes(6).toString('hex')}:`;
  const configured = process.env.TOOLGATE_REDIS_URL;
  if (configured) return { url: configured, prefix, stop: () => deleteKeys(configured, prefix) };
  if (integration) throw new Error('TOOLGATE_REDIS_URL is not set: run the integration tests through `make test`, which starts Redis and exports it.');
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start redis-server (install it: apt-get install redis-server): ${e.message}`))));
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([spawnError, waitFor('redis-server', () => ping(url), 15_000, 50)]);
  return { url, prefix, stop: () => stop(child, exited) };
}

async function ping(url: string): Promise<true | undefined> {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG' ? true : undefined;
  } finally {
    client.disconnect();
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
