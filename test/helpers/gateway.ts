import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ensureDemoAgents, type DemoAgents } from '../../src/demo/agents.js';
import { exampleTools } from '../../src/server/example-tools.js';
import type { ToolHandler } from '../../src/server/types.js';
import { loadServerConfig, type ServerConfig } from '../../src/server/config.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/server/start.js';

export const POLICY_BUNDLE = process.env.TOOLGATE_POLICY_BUNDLE ?? 'build/policy';

export interface TestGateway extends RunningGateway {
  readonly agents: DemoAgents;
  readonly config: ServerConfig;
  readonly dir: string;
}

/**
 * A gateway on a free port with the demo agents and tools, its state in a fresh temp dir. `env` overrides the
 * server configuration the same way deployment variables do (e.g. TOOLGATE_KAFKA_BROKERS).
 */
export async function startTestGateway(env: Record<string, string | undefined> = {}, options: Partial<StartOptions> & { tools?: Record<string, ToolHandler>; agents?: DemoAgents } = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-test-'));
  const agents = options.agents ?? ensureDemoAgents(join(dir, 'agents'));
  const base = loadServerConfig({
    PORT: '0',
    TOOLGATE_STATE_DIR: dir,
    TOOLGATE_POLICY_BUNDLE: POLICY_BUNDLE,
    TOOLGATE_GATEWAY_ID: `test-${randomUUID().slice(0, 8)}`,
    TOOLGATE_ENVIRONMENT: 'test',
    ...env,
  });
  const config = { ...base, agentKeys: [agents.jwksFile] };
  const { agents: _agents, ...start } = options;
  const gw = await startGateway(config, { ...start, tools: options.tools ?? exampleTools().tools });
  return { ...gw, agents, config, dir };
}

/** A scratch directory with the demo agents' keys and where an audit file and key go: for apps a test builds. */
export function scratchGateway(prefix: string): { dir: string; agents: DemoAgents; auditFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, agents: ensureDemoAgents(join(dir, 'agents')), auditFile: join(dir, 'audit.jsonl'), keyFile: join(dir, 'audit.pem') };
}
