import type { Request, Response } from 'express';

export interface EventStream {
  send(event: string, data: unknown): void;
  readonly closed: Promise<void>;
}

const HEARTBEAT_MS = 15_000;
/**
 * A client this far behind (bytes queued, unsent) is cut off rather than buffered without bound: the page
 * reconnects and reloads the list, which is cheaper than holding a slow reader's backlog in the gateway.
 */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Turns a response into a server-sent event stream. It ends after `maxMs`: the page reconnects with a fresh
 * signature, so a key removed from the registry stops receiving within that time. A comment line every 15 s keeps
 * proxies from closing an idle stream.
 */
export function openEventStream(req: Request, res: Response, maxMs: number): EventStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write(': toolgate console\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const end = setTimeout(() => {
    res.write('event: reconnect\ndata: {}\n\n');
    res.end();
  }, maxMs);
  const closed = new Promise<void>((resolve) => {
    const done = (): void => {
      clearInterval(heartbeat);
      clearTimeout(end);
      resolve();
    };
    req.on('close', done);
    res.on('close', done);
  });
  return {
    closed,
    send(event, data) {
      if (res.writableEnded) return;
      if (res.writableLength > MAX_QUEUED_BYTES) {
        res.end();
        return;
      }
      // JSON never contains a raw newline, so one data line carries the whole event.
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
  };
}
