import type { PolicyInput } from '../policy/index.js';
/**
 * Child-process entry (dist/bench/server.js): one server under test per process, so the load generator never
 * shares its event loop. Protocol over the IPC channel: the parent sends `{start: ServerSpec}`, the child
 * answers `{listening: port}` or `{error}`; `{loopDelay: true}` answers the event-loop delay since the previous
 * one; `{stop: true}` closes it and the process exits. A lost parent (disconnect) ends the child too.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exampleTools } from '../server/example-tools.js';
import { loadServerConfig } from '../server/config.js';
import { startGateway } from '../server/start.js';
import { setupTelemetry } from '../telemetry/setup.js';
import { createBareApp, createDurableApp, createSidecarApp } from './apps.js';
import { opaDecisionPoint } from './fair-sidecar.js';
import { BENCH_CONTEXT, pipelineEnv, type ChildMessage, type ServerSpec } from './children.js';
import type { MemoryReading } from './types.js';

function listen(app: { listen(port: number, host: string, cb: () => void): Server }): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Serves `app` on a free port; closing stops the server, then whatever the app holds (`release`). */
async function serve(app: Parameters<typeof listen>[0], release: () => Promise<void> = async () => undefined): Promise<{ port: number; close(): Promise<void> }> {
  const server = await listen(app);
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await closeServer(server);
      await release();
    },
  };
}

async function start(spec: ServerSpec): Promise<{ port: number; close(): Promise<void> }> {
  const { tools } = exampleTools();
  switch (spec.kind) {
    case 'bare':
      return serve(createBareApp(tools));
    case 'durable': {
      const durable = await createDurableApp(tools, spec.stateDir);
      return serve(durable.app, durable.close);
    }
    case 'sidecar': {
      const sidecar = await createSidecarApp({ opaUrl: spec.opaUrl, jwksFile: spec.jwksFile, tools, ...BENCH_CONTEXT });
      return serve(sidecar.app, sidecar.close);
    }
    case 'pipeline':
      return startPipeline(spec, tools);
    case 'fair': {
      const opa = opaDecisionPoint(spec.opaUrl);
      const gw = await startPipeline(spec, tools, opa.decide);
      return {
        port: gw.port,
        close: async () => {
          await gw.close();
          opa.close();
        },
      };
    }
  }
}

async function startPipeline(spec: { bundleDir: string; jwksFile: string; stateDir: string }, tools: ReturnType<typeof exampleTools>['tools'], decisionPoint?: (input: PolicyInput) => Promise<unknown>): Promise<{ port: number; close(): Promise<void> }> {
  // As `toolgate serve` runs with no OTLP endpoint: no tracer provider is registered, spans are non-recording.
  const telemetry = setupTelemetry({ serviceName: 'toolgate' });
  const config = loadServerConfig(pipelineEnv(spec));
  const logger = {
    warn: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg: m, ...f })}\n`),
    error: (m: string, f?: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ level: 'error', msg: m, ...f })}\n`),
  };
  const gw = await startGateway(config, { tools, logger, ...(decisionPoint ? { decisionPoint } : {}) });
  replayBytes = () => gw.gate.readiness().replayStore?.bytes;
  return {
    port: gw.port,
    close: async () => {
      await gw.close();
      await telemetry.shutdown();
    },
  };
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

if (!process.send) {
  process.stderr.write('dist/bench/server.js is started by the bench harness (src/bench/children.ts), not by hand.\n');
  process.exit(2);
}

// Sampled every millisecond from start-up: the hostile-body scenario reads how long the loop was held.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);

let running: { close(): Promise<void> } | undefined;
/** The running pipeline's replay store table, in bytes (what its /readyz reports), for the memory readings. */
let replayBytes: (() => number | undefined) | undefined;
process.on('disconnect', () => process.exit(0));
/**
 * A full garbage collection on request (the soak's live-memory readings), without starting the process with
 * --expose-gc: the flag set at run time exposes `gc` to contexts created after it.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function memory(gc: boolean): MemoryReading {
  if (gc) collectGarbage();
  const m = process.memoryUsage();
  const kib = (n: number) => Math.round(n / 1024);
  const replay = replayBytes?.();
  return { rssKiB: kib(m.rss), heapUsedKiB: kib(m.heapUsed), heapTotalKiB: kib(m.heapTotal), externalKiB: kib(m.external), ...(replay !== undefined ? { replayKiB: kib(replay) } : {}) };
}

process.on('message', (msg: { start?: ServerSpec; stop?: true; loopDelay?: true; memory?: { gc: boolean } }) => {
  if (msg.memory) {
    send({ memory: memory(msg.memory.gc) });
  } else if (msg.loopDelay) {
    send({ loopDelay: { maxMs: ms(loop.max), p99Ms: ms(loop.percentile(99)), meanMs: ms(loop.mean) } });
    loop.reset();
  } else if (msg.start) {
    start(msg.start).then(
      (r) => {
        running = r;
        send({ listening: r.port });
      },
      (error: unknown) => send({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
    );
  } else if (msg.stop) {
    (running?.close() ?? Promise.resolve()).finally(() => {
      send({ stopped: true });
      process.disconnect();
    });
  }
});
