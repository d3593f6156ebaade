import { describe, expect, it } from 'vitest';
import { EXAMPLE_TOOL_LIMITS, exampleTools } from '../../src/server/example-tools.js';

type Handler = (args: Record<string, unknown>) => unknown;

describe('example tools (toolgate serve, the demo, the bench)', () => {
  it('keep the newest sent e-mails and orders up to their limit, so a long run does not grow with every call', async () => {
    const demo = exampleTools();
    const send = demo.tools['email.send'] as unknown as Handler;
    const place = demo.tools['trade.place'] as unknown as Handler;
    const extra = 250;
    for (let i = 0; i < EXAMPLE_TOOL_LIMITS.outbox + extra; i++) await send({ to: ['a@b.example'], subject: `m${i}` });
    for (let i = 0; i < EXAMPLE_TOOL_LIMITS.orders + extra; i++) await place({ symbol: 'ACME', side: 'buy', quantity: i, limit_price: 1 });
    expect(demo.outbox).toHaveLength(EXAMPLE_TOOL_LIMITS.outbox);
    expect(demo.outbox[0]).toMatchObject({ subject: `m${extra}` });
    expect(demo.outbox.at(-1)).toMatchObject({ subject: `m${EXAMPLE_TOOL_LIMITS.outbox + extra - 1}` });
    expect(demo.orders).toHaveLength(EXAMPLE_TOOL_LIMITS.orders);
    expect(demo.orders.at(-1)).toMatchObject({ quantity: EXAMPLE_TOOL_LIMITS.orders + extra - 1 });
  });

  it('keep the newest memories up to theirs, and memory.read answers from them', async () => {
    const demo = exampleTools();
    const write = demo.tools['memory.write'] as unknown as Handler;
    const read = demo.tools['memory.read'] as unknown as Handler;
    for (let i = 0; i < EXAMPLE_TOOL_LIMITS.memories + 5; i++) await write({ scope: 'user', owner: i < 5 ? 'old' : 'new', text: `t${i}` });
    expect(demo.memories).toHaveLength(EXAMPLE_TOOL_LIMITS.memories);
    expect(await read({ scope: 'user', owner: 'old' })).toEqual({ records: [] });
    expect(((await read({ scope: 'user', owner: 'new' })) as { records: unknown[] }).records).toHaveLength(EXAMPLE_TOOL_LIMITS.memories);
  });
});
