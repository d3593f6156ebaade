import { get } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { MAX_QUEUED_BYTES, openEventStream } from '../../src/console/sse.js';
import { listen } from '../helpers/listen.js';

describe('console event streams', () => {
  it('cut off a client that stops reading instead of queueing without bound', async () => {
    let ended: (queued: number) => void = () => undefined;
    const cut = new Promise<number>((resolve) => (ended = resolve));
    const app = express();
    app.get('/stream', (req, res) => {
      const events = openEventStream(req, res, 60_000);
      const chunk = 'x'.repeat(256 * 1024);
      let sent = 0;
      // Far more than any socket buffer holds: the queue must hit the cap and the stream end.
      const pump = (): void => {
        for (let i = 0; i < 8 && !res.writableEnded; i++, sent++) events.send('decision', { chunk });
        if (res.writableEnded) return ended(sent);
        if (sent < 1000) setImmediate(pump);
        else ended(-1);
      };
      pump();
    });
    const server = await listen(app);
    try {
      const request = get(`${server.origin}/stream`, (res) => res.pause());
      request.on('error', () => undefined);
      const sent = await cut;
      expect(sent).toBeGreaterThan(0);
      // Cut near the cap: at most the cap plus what the socket took, never the whole 250 MB.
      expect(sent * 256 * 1024).toBeLessThan(MAX_QUEUED_BYTES + 64 * 1024 * 1024);
      request.destroy();
    } finally {
      await server.close();
    }
  });
});
