import { randomUUID } from 'node:crypto';
import { describedTool, type ToolHandler } from './types.js';

/**
 * How much the example tools keep, newest last: a long-running `toolgate serve` must not grow with every call it
 * lets through (the bench's soak found the outbox holding every e-mail sent, about 400 bytes each). Memories are
 * what memory.read answers from, so they keep more; the oldest go first.
 */
export const EXAMPLE_TOOL_LIMITS = { outbox: 1000, orders: 1000, memories: 10_000 } as const;

/** Appends `item` and drops the oldest entries beyond `max`. */
function keepLast<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** The example tools `toolgate serve` and the demo put behind the gateway: the seed scenarios, backed by bounded memory. */
export function exampleTools(): { tools: Record<string, ToolHandler>; outbox: unknown[]; orders: unknown[]; memories: unknown[] } {
  const outbox: unknown[] = [];
  const orders: unknown[] = [];
  const memories: Record<string, unknown>[] = [];
  // Annotations as an honest service would set them: the policy (rego/toolgate/annotations.rego) reads them.
  const tools: Record<string, ToolHandler> = {
    'email.send': describedTool((args) => {
      const message = { id: `msg_${randomUUID()}`, to: args.to, cc: args.cc ?? [], subject: args.subject, attachments: args.attachments ?? [] };
      keepLast(outbox, message, EXAMPLE_TOOL_LIMITS.outbox);
      return { sent: true, message_id: message.id };
    }, { title: 'Send an e-mail', annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } }),
    'email.read_inbox': describedTool(
      () => ({ messages: [{ from: 'accountant@firm.example', subject: 'Receipts for November?', received_at: new Date().toISOString() }] }),
      { title: 'Read the inbox', annotations: { readOnlyHint: true, openWorldHint: true } },
    ),
    'trade.suggest': describedTool(
      (args) => ({ suggestion: { symbol: args.symbol, action: args.side ?? 'trim', rationale: args.reason ?? 'rebalance to target weights' } }),
      { title: 'Suggest a trade', annotations: { readOnlyHint: true, openWorldHint: false } },
    ),
    'trade.place': describedTool((args) => {
      const order = { order_id: `ord_${randomUUID()}`, symbol: args.symbol, side: args.side, quantity: args.quantity, limit_price: args.limit_price, status: 'accepted' };
      keepLast(orders, order, EXAMPLE_TOOL_LIMITS.orders);
      return order;
    }, { title: 'Place a limit order', annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } }),
    'memory.write': describedTool((args) => {
      const record = { id: `mem_${randomUUID()}`, ...args };
      keepLast(memories, record, EXAMPLE_TOOL_LIMITS.memories);
      return { stored: true, id: record.id };
    }, { title: 'Remember something', annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false } }),
    'memory.read': describedTool((args) => ({
      records: memories.filter((m) => m.scope === args.scope && (args.scope === 'room' ? m.room === args.room : m.owner === args.owner)),
    }), {
      title: 'Recall memories',
      // 2026-07-28 clients mirror the scope and the room in Mcp-Param-Scope / Mcp-Param-Room headers.
      inputSchema: {
        type: 'object',
        properties: { scope: { type: 'string', 'x-mcp-header': 'Scope' }, room: { type: 'string', 'x-mcp-header': 'Room' }, owner: { type: 'string' }, on_behalf_of: { type: 'string' } },
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    }),
    'memory.forget': describedTool((args) => {
      const at = memories.findIndex((m) => m.id === args.id);
      if (at >= 0) memories.splice(at, 1);
      return { forgotten: at >= 0 };
    }, {
      title: 'Forget a memory',
      description: 'Deletes one stored memory for good.',
      inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    }),
  };
  return { tools, outbox, orders, memories };
}
