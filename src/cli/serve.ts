import cluster from 'node:cluster';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadServerConfig } from '../server/config.js';
import { startGateway } from '../server/start.js';
import { startCluster, type WorkerReady } from '../server/cluster.js';
import { rolloutReloader } from '../server/reload.js';
import { setupTelemetry } from '../telemetry/setup.js';
import { exampleTools } from '../server/example-tools.js';
import { UsageError } from './audit.js';

const logger = {
  warn: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: m, ...f })}\n`),
  error: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: m, ...f })}\n`),
};

/**
 * `toolgate serve [--workers N]`: the gateway with the example tools, configured from TOOLGATE_CONFIG and the
 * environment (README, Configuration). Prints one JSON line when listening; SIGHUP rereads the configuration and
 * applies its policy rollout (shadow and canary candidates); SIGTERM/SIGINT drain the audit spool and exit.
 * With --workers N > 1, N gateway processes share the port (src/server/cluster.ts); they need Redis.
 */
export async function serve(argv: string[], out: Writable): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { workers: { type: 'string', default: '1' } }, strict: true });
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`--workers ${values.workers}: give a whole number of gateway processes from 1 to 256 (e.g. the machine's cores).`);
  const config = loadServerConfig();
  if (config.agentKeys.length === 0) throw new UsageError('No agent keys: set TOOLGATE_AGENT_KEYS to the JWKS file(s) of registered agents (toolgate keygen makes keys).');
  if (workers > 1 && cluster.isPrimary) {
    const started = await startCluster(config, workers, logger);
    out.write(`${JSON.stringify({ listening: started.url, policy: started.policy, gateway: started.gatewayId, workers, audit: started.auditFiles })}\n`);
    const onHangup = () => started.reload();
    process.on('SIGHUP', onHangup);
    await untilSignalled();
    process.off('SIGHUP', onHangup);
    await started.stop();
    return 0;
  }
  return serveOne(config, out);
}

async function serveOne(config: ReturnType<typeof loadServerConfig>, out: Writable): Promise<number> {
  const telemetry = setupTelemetry({
    serviceName: config.telemetry.serviceName,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
    exportMetrics: process.env.OTEL_METRICS_EXPORTER === 'otlp',
  });
  let gw;
  try {
    gw = await startGateway(config, { tools: exampleTools().tools, logger });
  } catch (error) {
    // A failed start (e.g. the port is taken: ConfigError port_in_use, printed by main) must not hang on the exporter.
    await telemetry.shutdown();
    throw error;
  }
  if (cluster.isWorker) {
    const ready: WorkerReady = { type: 'toolgate-listening', url: gw.url, policy: gw.gate.policyRevision };
    process.send?.(ready);
  } else {
    out.write(`${JSON.stringify({ listening: gw.url, policy: gw.gate.policyRevision, gateway: config.gatewayId ?? null })}\n`);
  }
  const reload = rolloutReloader(gw.gate, config, () => loadServerConfig(), logger);
  const onHangup = () => void reload();
  process.on('SIGHUP', onHangup);
  await untilSignalled();
  process.off('SIGHUP', onHangup);
  await gw.close();
  await telemetry.shutdown();
  // The IPC channel to the primary would keep a drained worker alive.
  if (cluster.isWorker) process.disconnect();
  return 0;
}

/**
 * Resolves on the first SIGTERM or SIGINT. A worker keeps ignoring both afterwards: Ctrl-C reaches every process of
 * the group and the primary then sends SIGTERM too, and that second signal must not kill it mid-drain. Elsewhere a
 * second signal keeps its default effect (exit now), the way to stop a drain that takes too long.
 */
function untilSignalled(): Promise<void> {
  return new Promise<void>((resolve) => {
    const listen = cluster.isWorker ? process.on.bind(process) : process.once.bind(process);
    listen('SIGTERM', () => resolve());
    listen('SIGINT', () => resolve());
  });
}
