import { describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolHandler } from '../../src/server/types.js';
import { readAuditFile } from '../helpers/audit.js';
import { startTestGateway } from '../helpers/gateway.js';

/**
 * Shutting down while a call runs: the call finishes, and its whole audit trail (decision and completion) is written
 * before the audit sink closes; nothing is logged as lost.
 */
describe('closing the gateway with a call in flight', () => {
  it('lets the running call finish and record its completion before the audit closes', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (release = r));
    const demo = exampleTools();
    const slow: ToolHandler = async (args, req) => {
      entered();
      await gate;
      return demo.tools['trade.suggest']!(args, req);
    };
    const errors: string[] = [];
    const logger = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: (message: string) => void errors.push(message) };
    const gw = await startTestGateway({}, { tools: { ...demo.tools, 'trade.suggest': slow }, logger });
    const call = new AgentClient({ baseUrl: gw.url, privateJwk: gw.agents.keys.advisor }).callTool('trade.suggest', { symbol: 'NVDA' });
    await inside;
    // The gate is closed directly, as a library user's shutdown does, while the server still holds the connection.
    const closing = gw.gate.close();
    // The tool is still running while the gateway shuts down; let it finish now.
    setTimeout(release, 50);
    const res = await call;
    await closing;
    await gw.close();
    expect(res.status).toBe(200);
    const trail = readAuditFile(gw.config.audit.file).filter((e) => e.decision_id === res.decisionId).map((e) => e.type);
    expect(trail).toEqual(['decision', 'completion']);
    expect(errors).toEqual([]);
  });
});
