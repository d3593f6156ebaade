import { AgentClient } from '../../src/agent/client.js';
import { agent, MARKET_OPEN } from '../helpers/calls.js';
import type { TestGateway } from '../helpers/gateway.js';

/** An order of `notional` (10 units at notional/10): the demo policy allows up to 2,500, asks approval to 10,000. */
export const order = (notional: number, note = 'rebalance to target weights') => ({ symbol: 'NVDA', side: 'buy', quantity: 10, limit_price: notional / 10, reason: note, inputs: ['prices:2026-11-25'] });

/** The decision ids of the recorded calls, by what the demo policy decided. */
export interface Traffic {
  /** trade.place of 5,000: approval_required under the demo policy; over a 4,000 cap, denied. */
  readonly midOrder: string;
  /** trade.place of 20,000: order_too_large under both. */
  readonly bigOrder: string;
  /** trade.place of 1,000: allowed under both; the second one is refused by the cooldown limit after the policy allowed it. */
  readonly smallOrders: readonly string[];
  /** email.send with an AWS key in the body: allowed, its audit input masked. */
  readonly maskedEmail: string;
  readonly plain: readonly string[];
  /** Refused before the policy saw it. */
  readonly unsigned: string;
}

/** Calls the gateway the way the demo's agents do (the gateway must run with `now: () => MARKET_OPEN`, paper). */
export async function recordTraffic(gw: TestGateway): Promise<Traffic> {
  const rebalancer = agent(gw.url, gw.agents.keys.rebalancer);
  const receipts = agent(gw.url, gw.agents.keys['receipts-bot']);
  const advisor = agent(gw.url, gw.agents.keys.advisor);
  const mid = await rebalancer('trade.place', order(5_000));
  const big = await rebalancer('trade.place', order(20_000), 'mcp');
  const small1 = await rebalancer('trade.place', order(1_000));
  const small2 = await rebalancer('trade.place', order(1_000, 'second within the cooldown'));
  const masked = await receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'key AKIAQWERTYUIOPASDFGH' });
  const plain = await Promise.all([
    receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts for November', body: 'Attached.' }),
    receipts('email.send', { to: ['mallory@evil.example'], subject: 'Receipts', body: 'x' }),
    advisor('trade.place', order(1_000)),
    rebalancer('trade.suggest', { symbol: 'NVDA', side: 'buy', quantity: 10 }),
  ]);
  const unsigned = await new AgentClient({ baseUrl: gw.url }).callTool('email.send', { to: ['accountant@ledger-partners.example'] });
  const id = (x: { decisionId: string | null }) => {
    if (!x.decisionId) throw new Error('a call came back without a decision id');
    return x.decisionId;
  };
  return {
    midOrder: id(mid),
    bigOrder: id(big),
    smallOrders: [id(small1), id(small2)],
    maskedEmail: id(masked),
    plain: plain.map(id),
    unsigned: id(unsigned),
  };
}

export { MARKET_OPEN };
