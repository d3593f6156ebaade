import express, { type Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Erasure } from '../../src/classify/mask.js';
import { redactResponse } from '../../src/gateway/redaction.js';
import { listen, type Listening } from '../helpers/listen.js';

const EMAIL = 'jane.doe@example.com';
const message = (id: number) => ({ jsonrpc: '2.0', id, result: { structuredContent: { note: `write to ${EMAIL}` }, isError: false } });
const POINTER = '/result/structuredContent/note';

/** Every way a handler (Express, or the MCP SDK's transport on the raw response) writes an answer. */
const WRITERS: Record<string, (res: Response) => void> = {
  'res.json': (res) => void res.json(message(1)),
  'res.send of a JSON string': (res) => void res.type('application/json').send(JSON.stringify(message(1))),
  'writeHead with inline headers, then end': (res) => {
    const body = JSON.stringify(message(1));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
  },
  'write in pieces (split inside a character), then end': (res) => {
    const bytes = Buffer.from(JSON.stringify(message(1)).replace('write', 'wrïte'));
    res.setHeader('content-type', 'application/json');
    const cut = bytes.indexOf(0xc3) + 1;
    res.write(bytes.subarray(0, cut));
    res.end(bytes.subarray(cut));
  },
  'an SSE stream of two events written across chunk boundaries (the SDK transport)': (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const text = `event: message\nid: 1\ndata: ${JSON.stringify(message(1))}\n\nevent: message\ndata: ${JSON.stringify(message(2))}\n\n`;
    const mid = text.indexOf(EMAIL) + 4;
    res.write(text.slice(0, mid));
    res.write(text.slice(mid));
    res.end();
  },
};

describe('response redaction on every write path', () => {
  let server: Listening;
  const removed = new Map<string, Erasure[]>();
  beforeAll(async () => {
    const app = express();
    app.get('/:writer', (req, res) => {
      const out: Erasure[] = [];
      removed.set(req.params.writer, out);
      redactResponse(res, [POINTER], out);
      WRITERS[req.params.writer]!(res);
    });
    server = await listen(app);
  });
  afterAll(() => server?.close());

  it.each(Object.keys(WRITERS))('%s: the agent never sees the value, and what was removed is reported', async (writer) => {
    const res = await fetch(`${server.origin}/${encodeURIComponent(writer)}`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(EMAIL);
    expect(text).toContain('[REDACTED:email');
    // The body the agent got is whole: a Content-Length set for the original body would have cut it or hung.
    const messages = res.headers.get('content-type')!.startsWith('text/event-stream')
      ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as unknown)
      : [JSON.parse(text) as unknown];
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatchObject({ jsonrpc: '2.0', result: { isError: false } });
    expect(removed.get(writer)!.length).toBe(messages.length);
  });
});
