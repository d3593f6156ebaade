import type { Writable } from 'node:stream';
import { loadServerConfig } from '../server/config.js';
import { startGateway } from '../server/start.js';
import { rolloutReloader } from '../server/reload.js';
import { setupTelemetry } from '../telemetry/setup.js';
import { exampleTools } from '../server/example-tools.js';
import { UsageError } from './audit.js';

/**
 * `toolgate serve`: the gateway with the example tools, configured from TOOLGATE_CONFIG and the environment
 * (README, Configuration). Prints one JSON line when listening; SIGHUP rereads the configuration and applies its
 * policy rollout (shadow and canary candidates); SIGTERM/SIGINT drain the audit spool and exit.
 */
export async function serve(_argv: string[], out: Writable): Promise<number> {
  const config = loadServerConfig();
  if (config.agentKeys.length === 0) throw new UsageError('No agent keys: set TOOLGATE_AGENT_KEYS to the JWKS file(s) of registered agents (toolgate keygen makes keys).');
  const telemetry = setupTelemetry({
    serviceName: config.telemetry.serviceName,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
    exportMetrics: process.env.OTEL_METRICS_EXPORTER === 'otlp',
  });
  const logger = {
    warn: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: m, ...f })}\n`),
    error: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: m, ...f })}\n`),
  };
  let gw;
  try {
    gw = await startGateway(config, { tools: exampleTools().tools, logger });
  } catch (error) {
    // A failed start (e.g. the port is taken: ConfigError port_in_use, printed by main) must not hang on the exporter.
    await telemetry.shutdown();
    throw error;
  }
  out.write(`${JSON.stringify({ listening: gw.url, policy: gw.gate.policyRevision, gateway: config.gatewayId ?? null })}\n`);
  const reload = rolloutReloader(gw.gate, config, () => loadServerConfig(), logger);
  const onHangup = () => void reload();
  process.on('SIGHUP', onHangup);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  process.off('SIGHUP', onHangup);
  await gw.close();
  await telemetry.shutdown();
  return 0;
}
