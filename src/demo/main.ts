#!/usr/bin/env node
import { join } from 'node:path';
import { loadServerConfig } from '../server/config.js';
import { startGateway } from '../server/start.js';
import { setupTelemetry } from '../telemetry/setup.js';
import { ensureDemoAgents } from './agents.js';
import { exampleTools } from '../server/example-tools.js';
import { walkthrough } from './walkthrough.js';

/**
 * `make demo`: the gateway on embedded defaults (JSONL audit file, in-memory state, no exporter unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) in front of the example tools, a scripted agent walkthrough, then it keeps
 * serving until interrupted.
 */
async function main(): Promise<void> {
  // The demo trades on paper: its policy lets trade.place run only in the paper and prod environments.
  // The console is on in the demo (opt-in elsewhere); its trace links point at the local Jaeger when traces go there.
  const jaeger = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? { TOOLGATE_CONSOLE_JAEGER_URL: `http://127.0.0.1:${process.env.TOOLGATE_JAEGER_QUERY_PORT ?? '16686'}` } : {};
  const base = loadServerConfig({ TOOLGATE_ENVIRONMENT: 'paper', TOOLGATE_CONSOLE: 'true', ...jaeger, ...process.env });
  const agents = ensureDemoAgents(join(base.stateDir, 'demo-agents'));
  const config = { ...base, agentKeys: [...base.agentKeys, agents.jwksFile] };
  const telemetry = setupTelemetry({
    serviceName: config.telemetry.serviceName,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
    exportMetrics: process.env.OTEL_METRICS_EXPORTER === 'otlp',
  });
  const logger = {
    warn: (m: string, f?: Record<string, unknown>) => console.warn(`warn: ${m}`, f ?? ''),
    error: (m: string, f?: Record<string, unknown>) => console.error(`error: ${m}`, f ?? ''),
  };
  const gw = await startGateway(config, { tools: exampleTools().tools, logger });
  console.log(`toolgate demo gateway listening on ${gw.url} (policy ${gw.gate.policyRevision}, audit ${config.audit.kafka ? `kafka ${config.audit.kafka.topic}` : config.audit.file})`);
  console.log(`agent keys: ${agents.jwksFile}`);
  if (config.console.enabled) console.log(`console: ${gw.url}/console/ (sign in with ${join(base.stateDir, 'demo-agents', 'finance-lead.private.jwk.json')}, the demo's approver)`);
  await walkthrough(gw.url, agents, process.stdout);
  console.log(`\naudit trail: ${config.audit.kafka ? `toolgate audit tail --brokers ${config.audit.kafka.brokers.join(',')}` : `node dist/cli/main.js audit verify --file ${config.audit.file} --key ${config.audit.keyFile}`}`);
  if (process.env.TOOLGATE_DEMO_EXIT === '1') {
    await gw.close();
    await telemetry.shutdown();
    return;
  }
  console.log('\nserving until interrupted (Ctrl-C)');
  const stop = async () => {
    await gw.close();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`toolgate demo failed: ${error instanceof Error ? `${'reason' in error ? `${String(error.reason)}: ` : ''}${error.message}` : String(error)}`);
  process.exit(1);
});
