import type { Writable } from 'node:stream';
import { AgentClient, type ToolResult } from '../agent/client.js';
import type { DemoAgents } from './agents.js';

interface Step {
  readonly title: string;
  readonly run: () => Promise<ToolResult>;
}

function summarize(r: ToolResult): string {
  const b = r.body as Record<string, unknown> | null;
  if (b && typeof b === 'object' && 'error' in b && 'jsonrpc' in b) {
    const e = b.error as { code: number; message: string; data?: { reasons?: { code: string }[] } };
    return `${r.status} JSON-RPC error ${e.code}: ${(e.data?.reasons ?? []).map((x) => x.code).join(', ')}`;
  }
  if (r.status === 401) return `401 ${String(b?.reason)}: ${String(b?.message ?? '')}`;
  if (r.status === 403 || r.status === 429) {
    const reasons = (b?.reasons as { code: string; message: string }[] | undefined) ?? [];
    return `${r.status} deny\n${reasons.map((x) => `       - ${x.code}: ${x.message}`).join('\n')}`;
  }
  if (r.status === 202) {
    const reasons = (b?.reasons as { code: string }[] | undefined) ?? [];
    return `202 approval_required (${reasons.map((x) => x.code).join(', ')}) approval id ${String((b?.approval as { id?: string } | undefined)?.id)}`;
  }
  return `${r.status} ${JSON.stringify(b)}`;
}

/** The scripted agent session `make demo` prints: an allowed call, refused ones with reasons, an unsigned one. */
export async function walkthrough(baseUrl: string, agents: DemoAgents, out: Writable): Promise<ToolResult[]> {
  const receipts = new AgentClient({ baseUrl, privateJwk: agents.keys['receipts-bot'] });
  const advisor = new AgentClient({ baseUrl, privateJwk: agents.keys.advisor });
  const unsigned = new AgentClient({ baseUrl });
  const steps: Step[] = [
    {
      title: 'receipts-bot emails the accountant (allowed)',
      run: () => receipts.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts for November', body: 'Monthly receipts attached.' }),
    },
    {
      title: 'receipts-bot emails an outsider (denied by policy, with reasons)',
      run: () => receipts.callTool('email.send', { to: ['someone@elsewhere.example'], subject: 'Receipts', body: 'Here you go.' }),
    },
    {
      title: 'receipts-bot tries to place a trade, a tool it does not hold (denied)',
      run: () => receipts.callTool('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 5, limit_price: 100 }),
    },
    {
      title: 'advisor suggests a rebalancing trade over MCP (allowed, advisory)',
      run: () => advisor.callMcp('trade.suggest', { symbol: 'NVDA', side: 'sell', reason: 'NVDA above 10% of portfolio, trim to 7%' }),
    },
    {
      title: 'advisor tries to place the trade over MCP (denied: no execute capability, JSON-RPC error)',
      run: () => advisor.callMcp('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 5, limit_price: 100, reason: 'trim', inputs: ['quote:NVDA'] }),
    },
    {
      title: 'an unsigned caller tries to send email (rejected: no identity)',
      run: () => unsigned.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'hi', body: 'hello' }),
    },
  ];
  const results: ToolResult[] = [];
  out.write(`\ntoolgate demo walkthrough against ${baseUrl}\n`);
  for (const [i, step] of steps.entries()) {
    const r = await step.run();
    results.push(r);
    out.write(`\n${i + 1}. ${step.title}\n   -> ${summarize(r)}\n      decision ${r.decisionId ?? '-'}\n`);
  }
  return results;
}
