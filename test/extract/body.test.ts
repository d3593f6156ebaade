import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readRawBody } from '../../src/extract/index.js';

/** A real server that hands each request's readRawBody outcome to the test. */
function serve(limit: number) {
  type Outcome = { body: Buffer } | { error: unknown };
  const outcomes: Outcome[] = [];
  let arrived: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    readRawBody(req, limit).then(
      (body) => {
        outcomes.push({ body });
        arrived?.();
        res.end('ok');
      },
      (error: unknown) => {
        outcomes.push({ error });
        arrived?.();
        res.destroy();
      },
    );
  });
  return {
    server,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    /** The next request's outcome, once readRawBody settles. */
    next: async (): Promise<Outcome> => {
      if (!outcomes.length) await new Promise<void>((resolve) => (arrived = resolve));
      return outcomes.shift()!;
    },
  };
}

/** Sends the head and part of the body, then closes the connection as a crashed or impatient client would. */
function sendPartial(port: number, head: string, bodyPart: string): void {
  const socket = connect(port, '127.0.0.1', () => {
    socket.write(head + bodyPart, () => socket.destroy());
  });
  socket.on('error', () => undefined);
}

describe('readRawBody', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it.each([
    ['a Content-Length body', 'POST /tools/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', '{"to":["a@b.c"'],
    ['a chunked body', 'POST /tools/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\n{"a":\r\n'],
    ['a body cut before its first byte', 'POST /tools/t HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', ''],
  ])('turns a client that hangs up mid-body (%s) into 400 body_incomplete, not an internal error', async (_name, head, part) => {
    const s = serve(1024);
    close = () => s.server.close();
    const port = await s.listen();
    sendPartial(port, head, part);
    expect(await s.next()).toMatchObject({ error: { name: 'BadRequestError', kind: 'bad_request', reason: 'body_incomplete' } });
  });

  it('still reads a complete body', async () => {
    const s = serve(1024);
    close = () => s.server.close();
    const port = await s.listen();
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{"a":1}' });
    expect(await res.text()).toBe('ok');
    expect(((await s.next()) as { body: Buffer }).body.toString()).toBe('{"a":1}');
  });

  it('keeps body_too_large for an oversized body', async () => {
    const s = serve(4);
    close = () => s.server.close();
    const port = await s.listen();
    sendPartial(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '8\r\n{"a":12}\r\n');
    expect(await s.next()).toMatchObject({ error: { reason: 'body_too_large' } });
  });
});
