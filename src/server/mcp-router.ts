import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { BoundedMap } from '../gateway/bounded-map.js';
import type { ToolHandler } from './types.js';

/** Sessions the example server keeps; the oldest opened goes first. */
const MAX_SESSIONS = 10_000;

/**
 * A small MCP Streamable HTTP server at `/` relative to its mount: JSON answers to POST, sessions opened by
 * initialize (`Mcp-Session-Id`, the 10,000 newest kept), a server-to-client event stream on GET, session end on DELETE
 * and ping.
 */
export function mcpRouter(tools: Record<string, ToolHandler>): Router {
  const router = express.Router();
  // Bounded like the gateway's own session state: a client opening sessions in a loop cannot grow the process.
  const sessions = new BoundedMap<Set<Response>>(MAX_SESSIONS);
  const session = (req: Request): string | undefined => {
    const id = req.headers['mcp-session-id'];
    return typeof id === 'string' ? id : undefined;
  };
  const unknownSession = (res: Response) => res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found; start a new one with initialize.' } });

  router.post('/', express.json(), async (req: Request, res: Response) => {
    const body = req.body as { id?: unknown; method?: string; params?: { name?: string; arguments?: Record<string, unknown> } };
    const id = body?.id ?? null;
    const sid = session(req);
    if (sid !== undefined && sessions.get(sid) === undefined) return void unknownSession(res);
    switch (body?.method) {
      case 'initialize': {
        const opened = randomUUID();
        sessions.set(opened, new Set());
        res.setHeader('Mcp-Session-Id', opened);
        res.json({ jsonrpc: '2.0', id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'toolgate-demo', version: '0.1.0' } } });
        return;
      }
      case 'ping':
        res.json({ jsonrpc: '2.0', id, result: {} });
        return;
      case 'tools/list':
        res.json({ jsonrpc: '2.0', id, result: { tools: Object.entries(tools).map(([name, tool]) => listed(name, tool)) } });
        return;
      case 'tools/call': {
        const name = body.params?.name ?? '';
        const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
        if (!tool) {
          res.json({ jsonrpc: '2.0', id, error: { code: -32602, message: `Unknown tool ${name}` } });
          return;
        }
        try {
          const result = await tool(body.params?.arguments ?? {}, req);
          res.json({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result, isError: false } });
        } catch (error) {
          res.json({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: String(error) }], isError: true } });
        }
        return;
      }
      default:
        if (body?.id === undefined || body?.method === undefined) {
          res.status(202).end(); // a notification, or the client's response to a request (this server sends none)
          return;
        }
        res.json({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method ${body?.method} not found` } });
    }
  });
  router.get('/', (req: Request, res: Response) => {
    const sid = session(req);
    const streams = sid === undefined ? undefined : sessions.get(sid);
    if (!streams) return void unknownSession(res);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': stream open\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  router.delete('/', (req: Request, res: Response) => {
    const sid = session(req);
    const streams = sid === undefined ? undefined : sessions.get(sid);
    if (!streams) return void unknownSession(res);
    sessions.delete(sid as string);
    for (const stream of streams) stream.end();
    res.status(204).end();
  });
  return router;
}

/** A tool as tools/list shows it: its description's members, with an open object schema when none is given. */
function listed(name: string, tool: ToolHandler): Record<string, unknown> {
  const d = tool.description ?? {};
  return {
    name,
    ...(d.title !== undefined ? { title: d.title } : {}),
    ...(d.description !== undefined ? { description: d.description } : {}),
    inputSchema: d.inputSchema ?? { type: 'object' },
    ...(d.annotations !== undefined ? { annotations: d.annotations } : {}),
  };
}
