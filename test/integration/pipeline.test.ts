import { randomBytes, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/client.js';
import { ed25519Thumbprint, loadEd25519PrivateKey } from '../../src/audit/chain.js';
import { verifyEvents } from '../../src/audit/verify.js';
import type { AuditEvent } from '../../src/audit/types.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { findSpan, tag } from '../helpers/jaeger.js';
import { consumeDecisions } from '../helpers/kafka.js';
import { assertAuditEvent } from '../helpers/schema.js';
import { services } from '../helpers/services.js';

/**
 * The whole request path against the real services: a signed request through Express, its decision span read
 * back from Jaeger's query API, its audit event consumed back from Kafka and matched by decision_id.
 */
const execFileAsync = promisify(execFile);

describe('pipeline through real Kafka and Jaeger', () => {
  const svc = services();
  const run = randomBytes(4).toString('hex');
  const serviceName = `toolgate-it-${run}`;
  const topic = `toolgate.audit.it.${run}`;
  let telemetry: Telemetry;
  let gw: TestGateway;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName, otlpEndpoint: svc.otlpEndpoint });
    gw = await startTestGateway({ TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','), TOOLGATE_AUDIT_TOPIC: topic });
  });
  afterAll(async () => {
    await gw?.close();
    await telemetry?.shutdown();
  });

  it('allows, denies and rejects, with one span and one audit event per decision', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const agent = new AgentClient({
      baseUrl: gw.url,
      privateJwk: gw.agents.keys['receipts-bot'],
      headers: { traceparent: `00-${traceId}-${parentSpanId}-01` },
    });
    const allowed = await agent.callTool('email.send', { to: ['accountant@ledger-partners.example'], subject: 'Receipts for November', body: 'Attached.' });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ sent: true });
    const denied = await agent.callTool('email.send', { to: ['mallory@evil.example'], subject: 'Receipts', body: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ decision: 'deny', reasons: [expect.objectContaining({ code: 'recipient_not_allowed' })] });
    const unsigned = await new AgentClient({ baseUrl: gw.url }).callTool('email.send', { to: ['accountant@ledger-partners.example'] });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body).toMatchObject({ error: 'unauthenticated', reason: 'signature_missing' });
    const ids = [allowed.decisionId!, denied.decisionId!, unsigned.decisionId!];
    expect(ids.every(Boolean)).toBe(true);

    // Spans: the decision span is a child of the caller's traceparent; the tool span a child of the decision.
    await telemetry.flush();
    const { span } = await findSpan(svc.jaegerQueryUrl, serviceName, (s) => s.operationName.startsWith('authorize ') && tag(s, 'toolgate.decision.id') === allowed.decisionId);
    expect(span.operationName).toBe('authorize email.send');
    expect(span.traceID).toBe(traceId);
    expect(span.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: parentSpanId }));
    expect(tag(span, 'gen_ai.tool.name')).toBe('email.send');
    expect(tag(span, 'gen_ai.agent.id')).toBe('receipts-bot');
    expect(tag(span, 'toolgate.decision.outcome')).toBe('allow');
    expect(tag(span, 'toolgate.identity.scheme')).toBe('rfc9421');
    expect(tag(span, 'toolgate.identity.verified')).toBe(true);
    expect(tag(span, 'toolgate.identity.key_id')).toBe(gw.agents.keys['receipts-bot'].kid);
    expect(tag(span, 'toolgate.policy.revision')).toBe(gw.gate.policyRevision);
    const { span: exec } = await findSpan(svc.jaegerQueryUrl, serviceName, (s) => s.operationName === 'execute_tool email.send' && tag(s, 'toolgate.decision.id') === allowed.decisionId);
    expect(exec.traceID).toBe(traceId);
    expect(exec.references).toContainEqual(expect.objectContaining({ refType: 'CHILD_OF', spanID: span.spanID }));

    const deniedSpan = await findSpan(svc.jaegerQueryUrl, serviceName, (s) => s.operationName.startsWith('authorize ') && tag(s, 'toolgate.decision.id') === denied.decisionId);
    expect(tag(deniedSpan.span, 'toolgate.decision.outcome')).toBe('deny');
    expect(String(tag(deniedSpan.span, 'toolgate.decision.reasons'))).toContain('recipient_not_allowed');
    expect(tag(deniedSpan.span, 'otel.status_code')).toBeUndefined(); // a deny is not an error

    const rejectedSpan = await findSpan(svc.jaegerQueryUrl, serviceName, (s) => s.operationName.startsWith('authorize ') && tag(s, 'toolgate.decision.id') === unsigned.decisionId);
    expect(tag(rejectedSpan.span, 'toolgate.identity.verified')).toBe(false);
    expect(tag(rejectedSpan.span, 'toolgate.decision.outcome')).toBe('unauthenticated');

    // Audit: every decision on the topic, schema-valid, chained and signed by the gateway's key.
    const events = await consumeDecisions(svc.kafkaBrokers, topic, ids, 30_000, [allowed.decisionId!]);
    for (const e of events) assertAuditEvent(e);
    const byId = (id: string, type = 'decision') => events.find((e) => e.decision_id === id && e.type === type) as AuditEvent;
    expect(byId(allowed.decisionId!)).toMatchObject({ outcome: 'allow', agent: { id: 'receipts-bot', verified: true }, tool: { name: 'email.send', protocol: 'http' }, trace_id: traceId, span_id: span.spanID });
    expect(byId(allowed.decisionId!, 'completion')).toMatchObject({ response: { status: 200 } });
    expect(byId(denied.decisionId!).reasons).toContainEqual(expect.objectContaining({ code: 'recipient_not_allowed' }));
    expect(byId(unsigned.decisionId!)).toMatchObject({ outcome: 'unauthenticated', reasons: [expect.objectContaining({ code: 'signature_missing' })] });
    // An independent Kafka client (kcat, librdkafka) reads the same events off the topic.
    const { stdout } = await execFileAsync('kcat', ['-C', '-b', svc.kafkaBrokers[0]!, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
    const viaKcat = stdout.trim().split('\n').map((line) => ({ key: line.split('\t')[0], event: JSON.parse(line.slice(line.indexOf('\t') + 1)) as AuditEvent }));
    for (const id of ids) expect(viaKcat.some((m) => m.event.decision_id === id && m.key === gw.config.gatewayId)).toBe(true);
    const key = createPublicKey(loadEd25519PrivateKey(readFileSync(gw.config.audit.keyFile, 'utf8')));
    const report = verifyEvents(events, new Map([[ed25519Thumbprint(key), key]]));
    expect(report.ok).toBe(true);
    expect(report.chains[0]?.unknownKeys).toEqual([]);

    // Compliance's commands against the real topic.
    const cli = (args: string[]) => execFileAsync(process.execPath, ['dist/cli/main.js', ...args], { timeout: 60_000 });
    const verified = await cli(['audit', 'verify', '--brokers', svc.kafkaBrokers.join(','), '--topic', topic, '--key', gw.config.audit.keyFile]);
    expect(verified.stdout).toMatch(/^OK: \d+ events/);
    expect(verified.stdout).not.toContain('unchecked');
    const tail = await cli(['audit', 'tail', '--brokers', svc.kafkaBrokers.join(','), '--topic', topic]);
    for (const id of ids) expect(tail.stdout).toContain(id);
    // The topic keeps everything: delete-only cleanup, unlimited retention.
    const admin = new Kafka({ brokers: svc.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    await admin.disconnect();
    const config = Object.fromEntries((described.resources[0]?.configEntries ?? []).map((c) => [c.configName, c.configValue]));
    expect(config).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
  });
});
