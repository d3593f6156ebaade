import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';

/** A tool: takes the (already authorized) arguments, returns a JSON result or throws. */
export type ToolHandler = (args: Record<string, unknown>, req: Request) => unknown;

/** The example tools behind the demo gateway: the seed post's three scenarios, backed by memory. */
export function exampleTools(): { tools: Record<string, ToolHandler>; outbox: unknown[]; orders: unknown[]; memories: unknown[] } {
  const outbox: unknown[] = [];
  const orders: unknown[] = [];
  const memories: Record<string, unknown>[] = [];
  const tools: Record<string, ToolHandler> = {
    'email.send': (args) => {
      const message = { id: `msg_${randomUUID()}`, to: args.to, cc: args.cc ?? [], subject: args.subject, attachments: args.attachments ?? [] };
      outbox.push(message);
      return { sent: true, message_id: message.id };
    },
    'email.read_inbox': () => ({ messages: [{ from: 'accountant@firm.example', subject: 'Receipts for November?', received_at: new Date().toISOString() }] }),
    'trade.suggest': (args) => ({ suggestion: { symbol: args.symbol, action: args.side ?? 'trim', rationale: args.reason ?? 'rebalance to target weights' } }),
    'trade.place': (args) => {
      const order = { order_id: `ord_${randomUUID()}`, symbol: args.symbol, side: args.side, quantity: args.quantity, limit_price: args.limit_price, status: 'accepted' };
      orders.push(order);
      return order;
    },
    'memory.write': (args) => {
      const record = { id: `mem_${randomUUID()}`, ...args };
      memories.push(record);
      return { stored: true, id: record.id };
    },
    'memory.read': (args) => ({
      records: memories.filter((m) => m.scope === args.scope && (args.scope === 'room' ? m.room === args.room : m.owner === args.owner)),
    }),
  };
  return { tools, outbox, orders, memories };
}

/** Routes `POST /tools/{name}` and MCP `POST /mcp` to the tools. Mounted after toolgate, so every call here was allowed. */
export function toolRoutes(tools: Record<string, ToolHandler>): Router {
  const router = express.Router();
  router.post('/tools/:name', async (req: Request, res: Response) => {
    const tool = tools[String(req.params.name)];
    if (!tool) {
      res.status(404).json({ error: 'not_found', reason: 'tool_unknown', message: `No tool named ${req.params.name} here.` });
      return;
    }
    try {
      res.json(await tool((req.body ?? {}) as Record<string, unknown>, req));
    } catch (error) {
      res.status(500).json({ error: 'tool_failed', message: error instanceof Error ? error.message : String(error) });
    }
  });
  router.post('/mcp', express.json(), async (req: Request, res: Response) => {
    const body = req.body as { id?: unknown; method?: string; params?: { name?: string; arguments?: Record<string, unknown> } };
    const id = body?.id ?? null;
    switch (body?.method) {
      case 'initialize':
        res.json({ jsonrpc: '2.0', id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'toolgate-demo', version: '0.1.0' } } });
        return;
      case 'tools/list':
        res.json({ jsonrpc: '2.0', id, result: { tools: Object.keys(tools).map((name) => ({ name, inputSchema: { type: 'object' } })) } });
        return;
      case 'tools/call': {
        const tool = tools[body.params?.name ?? ''];
        if (!tool) {
          res.json({ jsonrpc: '2.0', id, error: { code: -32602, message: `Unknown tool ${body.params?.name}` } });
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
        if (body?.id === undefined) {
          res.status(202).end(); // a notification
          return;
        }
        res.json({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method ${body?.method} not found` } });
    }
  });
  return router;
}
