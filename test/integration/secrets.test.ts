import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../../src/audit/topic-reader.js';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { agent, MARKET_OPEN } from '../helpers/calls.js';
import { services, waitFor } from '../helpers/services.js';
import { readAuditFile } from '../helpers/audit.js';

/** Credentials planted in arguments; none may reach Kafka, Jaeger or the audit file in clear. */
const SECRETS = {
  aws: 'AKIAQWERTYUIOPASDFGH',
  github: `ghp_${'Zx9Yw8Vu7Ts6'.repeat(3)}`,
  stripe: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGJ1bGxldHByb29mc2VjcmV0a2V5bWF0ZXJpYWw=\n-----END PRIVATE KEY-----',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyb290IiwiYWRtaW4iOnRydWV9.c2VjcmV0LXNpZ25hdHVyZS1ieXRlcw',
  apiKey: 'api_key=Q7wE9rT2yU4iO6pA8sD0fG3h',
};
/** The distinctive middle of each secret: what a leak would contain even if cut or re-encoded around it. */
const NEEDLES = [SECRETS.aws, SECRETS.github.slice(4, 30), SECRETS.stripe.slice(8), 'YnVsbGV0cHJvb2ZzZWNyZXRrZXltYXRlcmlhbA', SECRETS.jwt.split('.')[2]!, 'Q7wE9rT2yU4iO6pA8sD0fG3h'];

describe('nothing secret leaves the process in clear', () => {
  const svc = services();
  const run = randomBytes(4).toString('hex');
  const serviceName = `toolgate-secrets-${run}`;
  const topic = `toolgate.audit.secrets.${run}`;
  let telemetry: Telemetry;
  let kafkaGw: TestGateway;
  let fileGw: TestGateway;

  beforeAll(async () => {
    telemetry = setupTelemetry({ serviceName, otlpEndpoint: svc.otlpEndpoint });
    kafkaGw = await startTestGateway({ TOOLGATE_KAFKA_BROKERS: svc.kafkaBrokers.join(','), TOOLGATE_AUDIT_TOPIC: topic, TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
    fileGw = await startTestGateway({ TOOLGATE_ENVIRONMENT: 'paper' }, { now: () => MARKET_OPEN });
  });
  afterAll(async () => {
    await kafkaGw?.close();
    await fileGw?.close();
    await telemetry?.shutdown();
  });

  it('masks planted credentials in audit events (Kafka and file) and keeps them out of spans', async () => {
    const ids: string[] = [];
    for (const gw of [kafkaGw, fileGw]) {
      const receipts = agent(gw.url, gw.agents.keys['receipts-bot']);
      const room = agent(gw.url, gw.agents.keys['room-assistant']);
      const rebalancer = agent(gw.url, gw.agents.keys.rebalancer);
      for (const [name, secret] of Object.entries(SECRETS)) {
        const calls = await Promise.all([
          receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: `Receipts ${name}`, body: `here: ${secret}` }),
          receipts('email.send', { to: ['accountant@ledger-partners.example'], subject: `Invoice ${secret}`, body: 'x' }, 'mcp'),
          room('memory.write', { scope: 'user', owner: 'u1', on_behalf_of: 'u1', label: 'secret', content: { note: secret }, retention_days: 3 }),
          rebalancer('trade.place', { symbol: 'NVDA', side: 'sell', quantity: 1, limit_price: 1, reason: `key ${secret}`, inputs: [secret] }, 'mcp'),
        ]);
        for (const c of calls) if (gw === kafkaGw && c.decisionId) ids.push(c.decisionId);
      }
    }
    // Allowed ones included: memory.write of a secret-labelled note to the owner's own memory is allowed.
    await telemetry.flush();
    const events = await waitFor('all decisions on the topic', async () => {
      const seen: string[] = [];
      await readTopic({ brokers: svc.kafkaBrokers, topic, timeoutMs: 20_000 }, (_e, raw) => seen.push(raw));
      return ids.every((id) => seen.some((raw) => raw.includes(id))) ? seen : undefined;
    });
    const spans = await waitFor('the spans in Jaeger', async () => {
      const res = await fetch(`${svc.jaegerQueryUrl}/api/traces?service=${serviceName}&limit=1000&lookback=1h`);
      const text = await res.text();
      const count = ((JSON.parse(text) as { data: { spans: unknown[] }[] }).data ?? []).reduce((n, t) => n + t.spans.length, 0);
      return count >= ids.length ? text : undefined;
    });
    const file = JSON.stringify(readAuditFile(fileGw.config.audit.file));
    const everything = { kafka: events.join('\n'), jaeger: spans, file };
    for (const [where, text] of Object.entries(everything)) {
      for (const needle of NEEDLES) expect(text.includes(needle), `${where} holds planted secret ${needle}`).toBe(false);
    }
    // ...and the masking says what it did.
    expect(events.join('\n')).toContain('[REDACTED:aws_access_key]');
    expect(file).toContain('"masked":["/input/args/body"]');
  });
});
