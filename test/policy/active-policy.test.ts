import { copyFileSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivePolicy, FileBundleSource, type PolicyInput } from '../../src/policy/index.js';
import { buildBundle } from './bundles.js';

const silent = { warn: () => undefined, error: () => undefined };

const input: PolicyInput = {
  request: { method: 'POST', path: '/tools/trade.suggest', host: 'localhost', body_sha256: '', content_length: 2 },
  agent: { verified: true, scheme: 'rfc9421', id: 'advisor', key_id: 'k', thumbprint: 't', signature_agent: null, labels: {} },
  tool: { name: 'trade.suggest', protocol: 'http' },
  args: { symbol: 'NVDA', side: 'sell', reason: 'r' },
  resources: { attachments: [] },
  findings: { secrets: [], pii: [] },
  context: { now: '2026-01-05T15:00:00.000Z', now_ms: 0, weekday: 1, hour: 10, minute: 0, timezone: 'America/New_York', environment: 'test', gateway_id: 'g' },
  approval: null,
  break_glass: null,
};

describe('ActivePolicy', () => {
  let policy: ActivePolicy | undefined;
  afterEach(async () => policy?.close());

  it('swaps in a new bundle.tar.gz written over the old one; a call leased before the swap is decided by the old revision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-active-'));
    const path = join(dir, 'bundle.tar.gz');
    copyFileSync(buildBundle({ revision: 'a' }), path);
    const b = buildBundle({ revision: 'b', data: (d) => void (d.toolgate.config.agents.advisor.tools = ['trade.place']) });
    policy = await ActivePolicy.start({ source: new FileBundleSource(path), name: 'toolgate', engine: { workers: 1 }, logger: silent });
    const lease = policy.acquire();
    expect(lease.engine.info.revision).toBe('a');

    copyFileSync(b, `${path}.new`);
    renameSync(`${path}.new`, path);
    await policy.pollNow();
    expect(policy.engine.info.revision).toBe('b');
    // The old revision's threads stay until its lease is released: the in-flight decision completes.
    expect((await lease.engine.decide(input)).outcome).toBe('allow');
    lease.release();
    await expect.poll(async () => lease.engine.decide(input).then(() => 'open', (e: { reason?: string }) => e.reason)).toBe('policy_unavailable');
    const now = policy.acquire();
    expect((await now.engine.decide(input)).outcome).toBe('deny');
    now.release();
  });

  it.each([
    ['has no toolgate/decision entrypoint', { 'other.rego': 'package other\n\nx := 1\n' }, 'other/x', 'policy_entrypoint_missing'],
    ['makes a malformed smoke decision', { 'decision.rego': 'package toolgate\n\ndecision := {"outcome": "maybe"}\n' }, undefined, 'policy_smoke_failed'],
  ])('does not activate a revision that %s, and reports why', async (_what, rego, entrypoint, reason) => {
    const dir = mkdtempSync(join(tmpdir(), 'toolgate-active-'));
    const path = join(dir, 'bundle.tar.gz');
    copyFileSync(buildBundle({ revision: 'good' }), path);
    policy = await ActivePolicy.start({ source: new FileBundleSource(path), name: 'toolgate', engine: { workers: 1 }, logger: silent });
    const bad = join(dir, 'bad.tar.gz');
    copyFileSync(buildBundle({ revision: 'bad', rego, ...(entrypoint ? { entrypoint } : {}) }), bad);
    renameSync(bad, path);
    expect(await policy.poll()).toBe(false);
    expect(policy.status()).toMatchObject({ revision: 'good', lastError: { reason } });
    const lease = policy.acquire();
    expect((await lease.engine.decide(input)).outcome).toBe('allow');
    lease.release();
  });
});
