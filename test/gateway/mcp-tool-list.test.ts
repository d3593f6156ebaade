import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterToolList } from '../../src/gateway/mcp-tool-list.js';
import { transformResponse } from '../../src/gateway/response-rewrite.js';
import { listen, type Listening } from '../helpers/listen.js';

const ALL = ['email.send', 'trade.place', 'trade.suggest', 'email.read_inbox', 'memory.write'];
const page = (id: number, names: string[], nextCursor?: string) => ({ jsonrpc: '2.0', id, result: { tools: names.map((name) => ({ name, inputSchema: { type: 'object' } })), ...(nextCursor ? { nextCursor } : {}) } });
const advisorSees = (name: string) => name.startsWith('trade.suggest') || name === 'memory.write';

describe('tools/list filtered per caller', () => {
  it('pages through every visible tool exactly once; cursors are the service\'s, so a thinned or empty page still leads on', () => {
    const pages = [page(1, ALL.slice(0, 2), 'c1'), page(2, ALL.slice(2, 4), 'c2'), page(3, ALL.slice(4))];
    const seen: string[] = [];
    const hidden: string[] = [];
    for (const p of pages) {
      const out = filterToolList(p, advisorSees);
      const result = (out.message as ReturnType<typeof page>).result;
      expect(result.nextCursor).toBe(p.result.nextCursor);
      seen.push(...result.tools.map((t) => t.name));
      hidden.push(...out.hidden);
    }
    expect(seen).toEqual(['trade.suggest', 'memory.write']);
    expect(hidden.sort()).toEqual(['email.read_inbox', 'email.send', 'trade.place']);
  });

  it('fails closed: a tool without a name, or one the policy could not judge, is hidden', () => {
    const message = { jsonrpc: '2.0', id: 'l', result: { tools: [{ name: 'trade.suggest' }, { title: 'no name' }, { name: 'memory.write' }] } };
    const out = filterToolList(message, (name) => {
      if (name === 'memory.write') throw new Error('policy failed');
      return true;
    });
    expect((out.message as typeof message).result.tools).toEqual([{ name: 'trade.suggest' }]);
    expect(out.hidden).toEqual(['(unnamed)', 'memory.write']);
  });

  it.each([
    ['a notification on the same stream', { jsonrpc: '2.0', method: 'notifications/message', params: { data: 'x' } }],
    ['an error', { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'no' } }],
    ['a result that lists no tools', { jsonrpc: '2.0', id: 1, result: { resources: [] } }],
  ])('leaves %s as it is', (_name, message) => {
    expect(filterToolList(message, () => false)).toEqual({ message, hidden: [] });
  });

  it.each([
    ['another number', page(9, ALL)],
    ['the same number as a string', { ...page(1, ALL), id: '1' }],
    ['null', { ...page(1, ALL), id: null }],
    ['none', { jsonrpc: '2.0', result: page(1, ALL).result }],
  ])('fails closed: a tool list whose id is %s is filtered all the same', (_name, message) => {
    const out = filterToolList(message, advisorSees);
    expect((out.message as ReturnType<typeof page>).result.tools.map((t) => t.name)).toEqual(['trade.suggest', 'memory.write']);
    expect([...out.hidden].sort()).toEqual(['email.read_inbox', 'email.send', 'trade.place']);
  });

  describe('on the answer as the service writes it', () => {
    let server: Listening;
    const hiddenBy = new Map<string, string[]>();
    beforeAll(async () => {
      const app = express();
      app.get('/:mode', (req, res) => {
        const hidden: string[] = [];
        hiddenBy.set(req.params.mode, hidden);
        transformResponse(res, (doc) => {
          const out = filterToolList(doc, advisorSees);
          hidden.push(...out.hidden);
          return out.message;
        });
        if (req.params.mode === 'json') return void res.json(page(1, ALL, 'next'));
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'email.send' } })}\n\n`);
        res.end(`event: message\ndata: ${JSON.stringify(page(1, ALL, 'next'))}\n\n`);
      });
      server = await listen(app);
    });
    afterAll(() => server?.close());

    it.each(['json', 'sse'])('%s: the caller sees only its tools and the cursor', async (mode) => {
      const text = await (await fetch(`${server.origin}/${mode}`)).text();
      const messages = mode === 'json' ? [JSON.parse(text)] : text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
      const list = messages.find((m) => m.id === 1);
      expect(list.result).toEqual({ tools: [{ name: 'trade.suggest', inputSchema: { type: 'object' } }, { name: 'memory.write', inputSchema: { type: 'object' } }], nextCursor: 'next' });
      if (mode === 'sse') expect(messages[0]).toMatchObject({ method: 'notifications/message', params: { data: 'email.send' } });
      expect(hiddenBy.get(mode)!.sort()).toEqual(['email.read_inbox', 'email.send', 'trade.place']);
    });
  });
});
