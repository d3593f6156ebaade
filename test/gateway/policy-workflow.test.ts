import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.js';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import type { SimulationReport } from '../../src/policy/simulate-types.js';
import { canaryBucket } from '../../src/policy/index.js';
import { loadServerConfig } from '../../src/server/config.js';
import { rolloutReloader } from '../../src/server/reload.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { readAuditFile } from '../helpers/audit.js';
import { agent } from '../helpers/calls.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { waitFor } from '../helpers/services.js';
import { keyPair, OPA } from '../policy/bundles.js';
import { startBundleServer, type BundleServer } from '../policy/bundle-server.js';
import { simulate } from '../policy/simulate-cli.js';
import { MARKET_OPEN, order, recordTraffic, type Traffic } from '../policy/simulate-traffic.js';
import { CollectingReader } from './lifecycle-helpers.js';

/**
 * A policy author's checkout: rego/ and the policy script, run exactly as `make policy-test` / `make policy` run
 * them (scripts/policy.sh with TOOLGATE_OPA), so the workflow README describes is the one tested.
 */
function authorCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'toolgate-author-'));
  cpSync('rego', join(root, 'rego'), { recursive: true });
  mkdirSync(join(root, 'scripts'));
  for (const f of ['policy.sh', 'env.sh', 'lib.sh']) copyFileSync(join('scripts', f), join(root, 'scripts', f));
  const caps = join(root, 'node_modules/@open-policy-agent/opa-wasm');
  mkdirSync(caps, { recursive: true });
  copyFileSync('node_modules/@open-policy-agent/opa-wasm/capabilities.json', join(caps, 'capabilities.json'));
  return root;
}

/** `scripts/policy.sh <command>` in the checkout (what the make targets run); returns its stderr log. */
function policyScript(root: string, command: 'test' | 'build', env: Record<string, string> = {}): string {
  const run = spawnSync('bash', ['scripts/policy.sh', command], { cwd: root, env: { ...process.env, TOOLGATE_OPA: OPA, ...env }, encoding: 'utf8' });
  expect(run.status, `scripts/policy.sh ${command}: ${run.stderr}`).toBe(0);
  return run.stderr;
}

/** The author's change: the per-order cap from 10,000 to 4,000, and the opa tests that pinned the old cap moved with it. */
function tightenTradingCap(root: string): void {
  const dataFile = join(root, 'rego/data.json');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { toolgate: { config: { trade: { max_order_notional: number } } } };
  data.toolgate.config.trade.max_order_notional = 4_000;
  writeFileSync(dataFile, `${JSON.stringify(data, null, 2)}\n`);
  const edit = (file: string, pairs: [string, string][]) => {
    let text = readFileSync(join(root, file), 'utf8');
    for (const [from, to] of pairs) {
      expect(text, `${file} no longer has ${from}`).toContain(from);
      text = text.replaceAll(from, to);
    }
    writeFileSync(join(root, file), text);
  };
  // 66 x 150 = 9,900 was the largest order asking approval; 26 x 150 = 3,900 is now. 40 x 150 = 6,000 was an order
  // asking approval; 20 x 150 = 3,000 is now.
  edit('rego/toolgate/tools/trade_test.rego', [['"quantity": 66,', '"quantity": 26,'], ['"quantity": 67,', '"quantity": 27,'], ['{"quantity": 40}', '{"quantity": 20}']]);
  edit('rego/toolgate/break_glass_test.rego', [['{"quantity": 40}', '{"quantity": 20}']]);
  edit('rego/toolgate/limits_test.rego', [['{"quantity": 40}', '{"quantity": 20}']]);
}

/**
 * The policy author's workflow (README, Policy author's guide) on the demo policy with real components: edit the
 * data, opa test, a signed `make policy`, simulation against traffic the gateway recorded, then the signed bundle
 * published to a real bundle server and rolled out through the gateway's configuration file (reread as on SIGHUP):
 * shadow, canary, promotion — one gateway, never restarted.
 */
describe('policy author workflow: tighten the trading cap, from rego to every agent', () => {
  const reader = new CollectingReader();
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const logger = {
    warn: (message: string, fields?: Record<string, unknown>) => void logs.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
    error: (message: string, fields?: Record<string, unknown>) => void logs.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
  };
  let telemetry: Telemetry;
  let key: { privateKey: string; publicKey: string };
  let author: string;
  let activeServer: BundleServer;
  let candidateServer: BundleServer | undefined;
  let gw: TestGateway;
  let configFile: string;
  let baseConfig: Record<string, unknown>;
  let reload: () => Promise<unknown>;
  let traffic: Traffic;
  let activeRevision: string;
  let candidate: { tarball: string; revision: string };

  /** `make policy` with the signing key, into `out`: the bundle.tar.gz and its revision. */
  const makePolicy = (out: string) => {
    const log = policyScript(author, 'build', { POLICY_OUT: out, TOOLGATE_POLICY_SIGNING_KEY: key.privateKey, TOOLGATE_POLICY_SIGNING_ALG: 'ES256' });
    expect(log).toContain('signed:ES256');
    expect(existsSync(join(out, '.signatures.json'))).toBe(true);
    return { tarball: join(out, 'bundle.tar.gz'), revision: (JSON.parse(readFileSync(join(out, '.manifest'), 'utf8')) as { revision: string }).revision };
  };
  /** The operator edits the gateway's configuration file and signals a reload (what SIGHUP does in `toolgate serve`). */
  const configure = async (rollout: Record<string, unknown>) => {
    writeFileSync(configFile, JSON.stringify({ ...baseConfig, ...rollout }));
    await reload();
  };
  const events = () => readAuditFile(gw.config.audit.file) as AuditEvent[];
  const decision = (id: string | null) => events().find((e) => e.type === 'decision' && e.decision_id === id)!;
  const agents = () => ({
    rebalancer: agent(gw.url, gw.agents.keys.rebalancer),
    advisor: agent(gw.url, gw.agents.keys.advisor),
    receipts: agent(gw.url, gw.agents.keys['receipts-bot']),
  });
  /** The 5,000 order: approval under the demo policy's 10,000 cap, order_too_large under 4,000. */
  let orders = 0;
  const midOrder = (who: ReturnType<typeof agents>['rebalancer']) => who('trade.place', order(5_000, `rebalance, step ${++orders}`));

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName: 'toolgate-workflow', metricReaders: [reader] });
    key = keyPair('ec');
    author = authorCheckout();
    const active = makePolicy(join(author, 'build/active')); // the demo policy as it runs today, signed
    activeRevision = active.revision;
    activeServer = await startBundleServer(readFileSync(active.tarball));
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-workflow-'));
    const demoAgents = ensureDemoAgents(join(dir, 'agents'));
    configFile = join(dir, 'toolgate.json');
    baseConfig = { policyBundle: activeServer.url, policyVerificationKey: key.publicKey, policyPollMinMs: 5, policyPollMaxMs: 20, agentKeys: [demoAgents.jwksFile], environment: 'paper', stateDir: dir, gatewayId: 'workflow-gw', port: 0 };
    writeFileSync(configFile, JSON.stringify(baseConfig));
    // Everything from the file (startTestGateway's own defaults are overridden by the same values), so a reload
    // reads back exactly the configuration the gateway started with.
    const env = { TOOLGATE_CONFIG: configFile, TOOLGATE_POLICY_BUNDLE: activeServer.url, TOOLGATE_STATE_DIR: dir, TOOLGATE_GATEWAY_ID: 'workflow-gw', TOOLGATE_ENVIRONMENT: 'paper', PORT: '0' };
    gw = await startTestGateway(env, { now: () => MARKET_OPEN, agents: demoAgents, logger });
    reload = rolloutReloader(gw.gate, gw.config, () => loadServerConfig(env), logger);
  });
  afterAll(async () => {
    await gw?.close();
    await activeServer?.close();
    await candidateServer?.close();
    await telemetry?.shutdown();
  });

  it('1. edit the data, opa test (make policy-test), signed make policy', () => {
    tightenTradingCap(author);
    expect(policyScript(author, 'test')).toMatch(/coverage [\d.]+% \(minimum 90%\)/);
    candidate = makePolicy(join(author, 'build/candidate'));
    expect(candidate.revision).not.toBe(activeRevision); // the revision is derived from the content
  });

  it('2. toolgate policy simulate against the traffic the gateway recorded: the 5,000 order changes, nothing else', async () => {
    traffic = await recordTraffic(gw);
    const { code, out } = await simulate(['--candidate', candidate.tarball, '--file', gw.config.audit.file, '--max-changed', '0', '--json']);
    const report = JSON.parse(out) as SimulationReport;
    expect(code).toBe(1); // past --max-changed 0: the gate a CI job would stop on
    expect(report.recordedRevisions).toEqual({ [activeRevision]: report.clear.replayed + report.masked.replayed });
    expect(report.clear.changes).toEqual([
      expect.objectContaining({ kind: 'decision', tool: 'trade.place', from: { outcome: 'approval_required', codes: ['order_above_approval_threshold'] }, to: { outcome: 'deny', codes: ['order_too_large'] }, examples: [traffic.midOrder] }),
    ]);
    expect(report.clear.changed).toBe(1);
  });

  it('3. publish the signed bundle, shadow it: enforced decisions unchanged, disagreements in the audit event and the counter', async () => {
    candidateServer = await startBundleServer(readFileSync(candidate.tarball));
    await configure({ policyShadowBundle: candidateServer.url });
    expect(gw.gate.policyControl.status().shadow).toMatchObject({ revision: candidate.revision, fraction: 1, lastError: null });
    const r = await midOrder(agents().rebalancer);
    expect(r.outcome).toBe('approval_required'); // still the active policy's decision
    expect(decision(r.decisionId)).toMatchObject({ policy: { revision: activeRevision }, shadow: { revision: candidate.revision, outcome: 'deny', reasons: ['order_too_large'], agrees: false } });
    const points = await reader.points('toolgate.shadow.disagreements');
    expect(points.map((p) => [p.attributes.tool, p.attributes.outcome, p.attributes.shadow_outcome, p.value])).toEqual([['trade.place', 'approval_required', 'deny', 1]]);
  });

  it('4. canary: the agents hashed under the fraction are decided by the candidate, the others by the active policy', async () => {
    const { rebalancer, advisor, receipts } = agents();
    // advisor 0.25, rebalancer 0.78, receipts-bot 0.95 (SHA-256 of the id): 0.5 covers the advisor only, 0.8 the trader too.
    expect(canaryBucket('advisor')).toBeLessThan(0.5);
    expect(canaryBucket('rebalancer')).toBeGreaterThan(0.5);
    expect(canaryBucket('rebalancer')).toBeLessThan(0.8);
    expect(canaryBucket('receipts-bot')).toBeGreaterThan(0.8);
    await configure({ policyCanaryBundle: candidateServer!.url, policyCanaryFraction: 0.5 });
    expect(gw.gate.policyControl.status()).toMatchObject({ shadow: null, canary: { revision: candidate.revision, fraction: 0.5 } });
    const trader = await midOrder(rebalancer);
    expect(trader.outcome).toBe('approval_required');
    expect(decision(trader.decisionId).policy.revision).toBe(activeRevision);
    expect(decision((await midOrder(advisor)).decisionId).policy.revision).toBe(candidate.revision);

    await configure({ policyCanaryBundle: candidateServer!.url, policyCanaryFraction: 0.8 });
    const tightened = await midOrder(rebalancer);
    expect(tightened).toMatchObject({ status: 403, codes: ['order_too_large'] });
    expect(decision(tightened.decisionId).policy.revision).toBe(candidate.revision);
    const mail = await receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' });
    expect(decision(mail.decisionId).policy.revision).toBe(activeRevision);
  });

  it('5. promote: the bundle published as the active one (hot swap), the canary dropped; every agent on it, no restart', async () => {
    activeServer.serve(readFileSync(candidate.tarball));
    await waitFor('the promoted revision', async () => (gw.gate.policyRevision === candidate.revision ? true : undefined), 20_000, 10);
    await configure({});
    expect(gw.gate.policyControl.status()).toMatchObject({ active: { revision: candidate.revision, lastError: null }, shadow: null, canary: null });
    const { rebalancer, advisor, receipts } = agents();
    const trader = await midOrder(rebalancer);
    expect(trader).toMatchObject({ status: 403, codes: ['order_too_large'] });
    for (const r of [trader, await midOrder(advisor), await receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts', body: 'ok' })]) {
      expect(decision(r.decisionId).policy.revision).toBe(candidate.revision);
    }
    // One gateway process throughout: a single audit chain (one epoch, no gap) from the first call to the last.
    const chain = events().map((e) => e.chain);
    expect(new Set(chain.map((c) => c.epoch)).size).toBe(1);
    expect(chain.map((c) => c.seq)).toEqual(chain.map((_, i) => chain[0]!.seq + i));
    // The reloads applied the rollout and nothing else: no key outside it changed, so no restart was asked for.
    expect(logs.filter((l) => l.message.startsWith('configuration reload:') || l.message.startsWith('configuration reload failed'))).toEqual([]);
    expect(logs.filter((l) => l.message === 'configuration reloaded: policy rollout applied')).toHaveLength(4);
  });
});
