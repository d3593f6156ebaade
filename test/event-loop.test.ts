import { readFile } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yieldToLoop } from '../src/event-loop.js';

/** Spins until `ms` of wall time have passed: makes a timer scheduled before it due, whatever phase the loop is in. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: the point is that the loop cannot run meanwhile
  }
}

/**
 * What yieldToLoop promises, from each phase a request's work runs in: a timer that is due and data that has arrived
 * on a socket are both handled before it resolves. One setImmediate fails the first two cases (from an I/O callback
 * it resolves in the same turn's check phase, before any timer or new I/O).
 */
describe('yieldToLoop', () => {
  let server: ReturnType<typeof createServer>;
  let client: Socket;
  let peer: Socket;

  beforeAll(async () => {
    server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    peer = await accepted;
  });
  afterAll(async () => {
    client.destroy();
    peer.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Whether a due timer fired, and data written to the socket was read, before yieldToLoop resolved. */
  async function othersRan(): Promise<{ timer: boolean; io: boolean }> {
    const seen = { timer: false, io: false };
    setTimeout(() => (seen.timer = true), 0);
    peer.once('data', () => (seen.io = true));
    client.write('x'); // on loopback the bytes are in the peer's receive buffer when write returns
    spin(5);
    await yieldToLoop();
    return { ...seen };
  }

  it('from an I/O callback (the poll phase)', async () => {
    const result = await new Promise<Promise<{ timer: boolean; io: boolean }>>((resolve) => readFile(import.meta.filename, () => resolve(othersRan())));
    expect(await result).toEqual({ timer: true, io: true });
  });

  it('from a socket data callback (the poll phase), with more data waiting', async () => {
    const result = await new Promise<Promise<{ timer: boolean; io: boolean }>>((resolve) => {
      peer.once('data', () => resolve(othersRan()));
      client.write('y');
    });
    expect(await result).toEqual({ timer: true, io: true });
  });

  it('from an immediate (the check phase)', async () => {
    const result = await new Promise<Promise<{ timer: boolean; io: boolean }>>((resolve) => setImmediate(() => resolve(othersRan())));
    expect(await result).toEqual({ timer: true, io: true });
  });

  it('from a timer (the timers phase)', async () => {
    const result = await new Promise<Promise<{ timer: boolean; io: boolean }>>((resolve) => setTimeout(() => resolve(othersRan()), 0));
    expect(await result).toEqual({ timer: true, io: true });
  });
});
