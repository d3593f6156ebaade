import { randomBytes, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { ed25519Thumbprint, loadEd25519PrivateKey } from '../../src/audit/chain.js';
import { readTopic } from '../../src/audit/topic-reader.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { verifyEvents } from '../../src/audit/verify.js';
import { ensureDemoAgents } from '../../src/demo/agents.js';
import { POLICY_BUNDLE, startTestGateway } from '../helpers/gateway.js';
import { service, spawnGateway, type GatewayProcess } from '../helpers/process.js';
import { services, waitFor } from '../helpers/services.js';
import { assertAuditEvent } from '../helpers/schema.js';

/**
 * Nothing lost: load runs while the real broker is stopped and restarted and the gateway is killed (SIGKILL,
 * spooled events not yet forwarded) and restarted. Every decision a caller saw must reach the topic, none twice
 * after de-duplication, and every chain must verify.
 */
describe('audit stream survives a broker outage and a gateway crash', () => {
  const svc = services();
  const run = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-outage-'));
  const agents = ensureDemoAgents(join(dir, 'agents'));
  const env = {
    TOOLGATE_STATE_DIR: dir,
    TOOLGATE_AGENT_KEYS: agents.jwksFile,
    TOOLGATE_POLICY_BUNDLE: POLICY_BUNDLE,
    TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','),
    TOOLGATE_AUDIT_TOPIC: `toolgate.audit.outage.${run}`,
    TOOLGATE_GATEWAY_ID: `outage-${run}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
  };
  let gw: GatewayProcess | undefined;
  const decided = new Set<string>();
  let stop = false;

  afterAll(async () => {
    stop = true;
    await gw?.kill('SIGKILL');
    await service('up', 'kafka'); // leave the broker running for the rest of the suite
  });

  /** Sends calls one after another until told to stop, recording every decision id the gateway answered with. */
  async function load(label: string): Promise<number> {
    let sent = 0;
    while (!stop && sent < 2000) {
      const target = gw;
      if (!target) break;
      // Mostly refusals (they are decisions too, and spend no quota), every third an allowed read with its
      // completion event; a 429 from the policy's rate limit is a recorded decision as well.
      const agent = new AgentClient({ baseUrl: target.url, privateJwk: agents.keys['room-assistant'] });
      const allowed = sent % 3 === 0;
      let r;
      try {
        r = await agent.callTool('memory.read', allowed ? { scope: 'user', owner: 'u1', on_behalf_of: 'u1' } : { scope: 'user', owner: 'u2', on_behalf_of: 'u1', note: `${label} ${sent}` });
      } catch {
        // the gateway was killed: calls fail until it is back, and those were never decided
        break;
      }
      if (r.decisionId) decided.add(r.decisionId);
      expect([200, 403, 429], JSON.stringify(r.body)).toContain(r.status);
      sent++;
    }
    return sent;
  }

  it('delivers every decision exactly once after de-duplication', async () => {
    gw = await spawnGateway(env);
    const phase = async (label: string, until: () => Promise<unknown>) => {
      stop = false;
      const loader = load(label);
      await until();
      stop = true;
      return loader;
    };
    // 1. healthy, 2. broker stopped under load, 3. gateway killed while holding spooled events
    await phase('healthy', () => waitFor('40 decisions', async () => (decided.size >= 40 ? true : undefined)));
    // A gateway that requires the broker's acknowledgement (durability kafka, fail closed) is started while the
    // broker is up; during the outage it must refuse with 503 and execute nothing.
    const strictDir = mkdtempSync(join(tmpdir(), 'toolgate-strict-'));
    const executed: string[] = [];
    const strict = await startTestGateway(
      { TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','), TOOLGATE_AUDIT_TOPIC: `${env.TOOLGATE_AUDIT_TOPIC}.strict`, TOOLGATE_AUDIT_DURABILITY: 'kafka', TOOLGATE_AUDIT_ACK_TIMEOUT_MS: '1500', TOOLGATE_AUDIT_SPOOL_DIR: join(strictDir, 'spool') },
      { tools: { 'memory.read': (args) => { executed.push(JSON.stringify(args)); return { records: [] }; } } },
    );
    const strictAgent = new AgentClient({ baseUrl: strict.url, privateJwk: strict.agents.keys['room-assistant'] });
    const ownRead = { scope: 'user', owner: 'u1', on_behalf_of: 'u1' };
    expect((await strictAgent.callTool('memory.read', ownRead)).status).toBe(200);
    await phase('outage', async () => {
      await service('down', 'kafka');
      const before = decided.size;
      const refused = await strictAgent.callTool('memory.read', { ...ownRead, during: 'outage' });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: 'unavailable', reason: 'audit_unavailable' });
      expect(executed.some((a) => a.includes('outage'))).toBe(false);
      await waitFor('40 decisions during the outage', async () => (decided.size >= before + 40 ? true : undefined), 60_000);
    });
    await strict.close();
    await gw.kill('SIGKILL');
    const spooled = readFileSync(join(dir, 'spool', 'spool.jsonl'), 'utf8').trim().split('\n').length;
    const forwarded = (JSON.parse(readFileSync(join(dir, 'spool', 'spool.state.json'), 'utf8')) as { forwarded: number }).forwarded;
    expect(spooled - forwarded).toBeGreaterThan(0); // events were waiting when the gateway died
    // 4. broker back, gateway restarted: it drains what it spooled and keeps serving
    await service('up', 'kafka');
    gw = await spawnGateway(env);
    const before = decided.size;
    await phase('restarted', () => waitFor('40 decisions after restart', async () => (decided.size >= before + 40 ? true : undefined), 60_000));

    const events = await waitFor('every decision on the topic', async () => {
      const seen: AuditEvent[] = [];
      await readTopic({ brokers: svc.kafkaBrokers, topic: env.TOOLGATE_AUDIT_TOPIC, timeoutMs: 20_000 }, (e) => {
        if (e) seen.push(e);
      });
      const ids = new Set(seen.filter((e) => e.type === 'decision').map((e) => e.decision_id));
      return [...decided].every((id) => ids.has(id)) ? seen : undefined;
    }, 90_000, 1000);

    const key = createPublicKey(loadEd25519PrivateKey(readFileSync(join(dir, 'audit-ed25519.pem'), 'utf8')));
    const report = verifyEvents(events, new Map([[ed25519Thumbprint(key), key]]));
    expect(report.ok, JSON.stringify(report.chains)).toBe(true);
    expect(report.chains).toHaveLength(1); // the restarted gateway continued its chain
    const unique = new Map<string, AuditEvent>();
    for (const e of events) unique.set(`${e.chain.seq}|${e.chain.hash}`, e);
    const decisions = [...unique.values()].filter((e) => e.type === 'decision');
    expect(new Set(decisions.map((e) => e.decision_id)).size).toBe(decisions.length); // none twice
    for (const id of decided) expect(decisions.some((e) => e.decision_id === id)).toBe(true);
    for (const e of unique.values()) assertAuditEvent(e);
    expect(decided.size).toBeGreaterThanOrEqual(120);
  }, 400_000);
});
