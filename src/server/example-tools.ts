import { randomUUID } from 'node:crypto';
import type { ToolHandler } from './types.js';

/** The example tools `toolgate serve` and the demo put behind the gateway: the seed scenarios, backed by memory. */
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
