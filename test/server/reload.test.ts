import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import { loadServerConfig } from '../../src/server/config.js';
import { rolloutReloader } from '../../src/server/reload.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { buildBundle } from '../policy/bundles.js';

/** `toolgate serve`'s SIGHUP reload: the policy rollout from the reread file is applied; nothing else, and never a broken one. */
describe('configuration reload (SIGHUP)', () => {
  const logs: { message: string; fields?: Record<string, unknown> }[] = [];
  const logger = { warn: (message: string, fields?: Record<string, unknown>) => void logs.push({ message, fields }), error: (message: string, fields?: Record<string, unknown>) => void logs.push({ message, fields }) };
  let gw: TestGateway;
  let file: string;
  let base: Record<string, unknown>;
  let reload: () => Promise<unknown>;
  let candidate: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-reload-'));
    const agents = ensureDemoAgents(join(dir, 'agents'));
    candidate = buildBundle({ revision: 'candidate' });
    file = join(dir, 'toolgate.json');
    base = { policyBundle: buildBundle({ revision: 'active' }), agentKeys: [agents.jwksFile], stateDir: dir, gatewayId: 'reload-gw', environment: 'test', port: 0 };
    writeFileSync(file, JSON.stringify(base));
    const env = { TOOLGATE_CONFIG: file, TOOLGATE_POLICY_BUNDLE: base.policyBundle as string, TOOLGATE_STATE_DIR: dir, TOOLGATE_GATEWAY_ID: 'reload-gw', TOOLGATE_ENVIRONMENT: 'test', PORT: '0' };
    gw = await startTestGateway(env, { agents, logger });
    reload = rolloutReloader(gw.gate, gw.config, () => loadServerConfig(env), logger);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('applies the shadow and canary keys, and names the changed keys it did not apply', async () => {
    logs.length = 0;
    writeFileSync(file, JSON.stringify({ ...base, policyTimeoutMs: 900, policyShadowBundle: candidate, policyShadowFraction: 0.5, policyCanaryBundle: candidate, policyCanaryFraction: 0.25 }));
    await reload();
    expect(gw.gate.policyControl.status()).toMatchObject({ shadow: { revision: 'candidate', fraction: 0.5 }, canary: { revision: 'candidate', fraction: 0.25 } });
    expect(logs).toContainEqual({ message: 'configuration reload: only the policy rollout (shadow and canary) is applied; restart to apply the rest', fields: { changed: ['policyTimeoutMs'] } });

    writeFileSync(file, JSON.stringify({ ...base, policyShadowBundle: candidate }));
    await reload();
    expect(gw.gate.policyControl.status()).toMatchObject({ shadow: { revision: 'candidate', fraction: 1 }, canary: null });
  });

  it('keeps the rollout when the file does not parse or a candidate does not load, and logs the reason', async () => {
    logs.length = 0;
    writeFileSync(file, '{"policyShadowBundle": ');
    await reload();
    writeFileSync(file, JSON.stringify({ ...base, policyShadowBundle: join(tmpdir(), 'no-such-bundle.tar.gz') }));
    await reload();
    expect(logs.map((l) => l.fields?.reason)).toEqual(['config_file_invalid', 'policy_bundle_unreadable']);
    expect(gw.gate.policyControl.status().shadow).toMatchObject({ revision: 'candidate', fraction: 1 });
  });
});
