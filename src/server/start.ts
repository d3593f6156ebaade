import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CHECK_PLACEMENT, setSignatureCheckPlacement } from '../identity/check-placement.js';
import { createVerifier } from '../identity/index.js';
import { RedisNonceStore } from '../identity/redis-nonce-store.js';
import { createLimitStore } from '../limits/index.js';
import type { IdentityOptions } from '../identity/types.js';
import { toolgate, type Toolgate } from '../gateway/middleware.js';
import { NO_BREAK_GLASS } from '../gateway/options.js';
import type { Logger } from '../logger.js';
import { createApp } from './app.js';
import type { ToolHandler } from './types.js';
import type { ServerConfig } from './config.js';
import type { PolicyInput } from '../policy/types.js';
import { listen } from './listen.js';
import { approvalsRouter, createApprovalStore } from '../approvals/index.js';
import { createBreakGlassVerifier } from '../breakglass/index.js';
import { MemoryUploadStore, RedisUploadStore, uploadsRouter, type UploadStore } from '../uploads/index.js';
import { MemoryMcpSessionStore, RedisMcpSessionStore, type McpSessionStore } from '../gateway/mcp-sessions.js';
import { consoleRouter } from '../console/index.js';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly gate: Toolgate;
  readonly server: Server;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly tools: Record<string, ToolHandler>;
  /** Extra identity options (tests pass a clock or a nonce store). */
  readonly identity?: Partial<IdentityOptions>;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Decisions from an external decision point instead of in-process WASM (benchmarks: the fair sidecar). */
  readonly decisionPoint?: (input: PolicyInput) => Promise<unknown>;
}

/** Builds the identity stage, the middleware and the app from a ServerConfig, and listens. */
export async function startGateway(config: ServerConfig, options: StartOptions): Promise<RunningGateway> {
  // Shared state for several gateway instances lives in Redis when TOOLGATE_REDIS_URL is set; else in memory.
  const p = config.redisPrefix;
  const nonceStore = config.redisUrl ? await RedisNonceStore.connect(config.redisUrl, { prefix: `${p}nonce:` }) : undefined;
  const limits = await createLimitStore({ redisUrl: config.redisUrl, prefix: `${p}limit:` });
  const approvals = await createApprovalStore({ redisUrl: config.redisUrl, prefix: p });
  const uploads: UploadStore = config.redisUrl ? await RedisUploadStore.connect(config.redisUrl, { prefix: `${p}upload:` }) : new MemoryUploadStore();
  const mcpSessions: McpSessionStore = config.redisUrl ? await RedisMcpSessionStore.connect(config.redisUrl, { prefix: `${p}mcp-session:` }) : new MemoryMcpSessionStore();
  const breakGlass = config.breakGlassKeys.length ? createBreakGlassVerifier({ adminJwks: [...config.breakGlassKeys], ...(options.now ? { now: options.now } : {}) }) : NO_BREAK_GLASS;
  setSignatureCheckPlacement(config.signatureCheck ?? DEFAULT_CHECK_PLACEMENT);
  const verifier = await createVerifier({ ...config.identity, jwksFiles: config.agentKeys, ...(nonceStore ? { nonceStore } : {}), ...(options.identity ?? {}) } as IdentityOptions);
  const gate = toolgate({
    policy: {
      bundle: config.policyBundle,
      timeoutMs: config.policyTimeoutMs,
      ...(config.policyVerificationKey ? { verificationKeyFile: config.policyVerificationKey } : {}),
      ...(config.policyVerificationKeyId ? { verificationKeyId: config.policyVerificationKeyId } : {}),
      ...(config.policyTokenFile ? { tokenFile: config.policyTokenFile } : {}),
      ...(config.policyPolling !== undefined ? { polling: config.policyPolling } : {}),
      ...(config.policyShadow ? { shadow: config.policyShadow } : {}),
      ...(config.policyCanary ? { canary: config.policyCanary } : {}),
      ...(options.decisionPoint ? { decisionPoint: options.decisionPoint, workers: 0 } : {}),
    },
    verifier,
    audit: {
      file: config.audit.file,
      keyFile: config.audit.keyFile,
      failClosed: config.audit.failClosed,
      durability: config.audit.durability,
      spoolDir: config.audit.spoolDir,
      ackTimeoutMs: config.audit.ackTimeoutMs,
      ...(config.audit.kafka ? { kafka: config.audit.kafka } : {}),
    },
    ...(config.gatewayId ? { gatewayId: config.gatewayId } : {}),
    environment: config.environment,
    limits,
    approvals,
    uploads,
    mcpSessions,
    mcpAllowedOrigins: config.mcpAllowedOrigins,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    ...(config.mcpStateKey ? { mcpStateKey: config.mcpStateKey } : {}),
    breakGlass,
    ...(config.timezone ? { timezone: config.timezone } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  await gate.ready();
  // Opt-in (TOOLGATE_CONSOLE): it reads the audit trail the gate just opened, and signs in like any other caller.
  const consolePage = config.console.enabled
    ? consoleRouter({
      store: approvals,
      verifier,
      // With --workers and the file sink each process has its own file: TOOLGATE_CONSOLE_AUDIT_FILES lists them all.
      audit: config.audit.kafka ? { kafka: config.audit.kafka } : config.console.auditFiles?.length ? { files: config.console.auditFiles } : { file: config.audit.file },
      auditKeyFile: config.audit.keyFile,
      ...(config.console.jaegerUrl ? { jaegerUrl: config.console.jaegerUrl } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.now ? { now: options.now } : {}),
    })
    : undefined;
  const app = createApp(gate, options.tools, [
    // People's endpoints, signed like the agents' calls: approvers decide approvals, humans upload attachments.
    approvalsRouter({ store: approvals, verifier, onDecision: (record, approver) => gate.recordApproval(record, approver), ...(options.now ? { now: options.now } : {}) }),
    uploadsRouter({ store: uploads, verifier, ...(options.now ? { now: options.now } : {}) }),
    ...(consolePage ? [consolePage.router] : []),
  ], options.logger);
  const closeState = async (): Promise<void> => {
    consolePage?.close();
    await gate.close();
    await limits.close?.();
    await approvals.close?.();
    await uploads.close?.();
    await mcpSessions.close?.();
    await nonceStore?.close();
  };
  let server: Server;
  try {
    server = await listen(app, config.port, config.host);
  } catch (error) {
    // Nothing may keep the process alive after a failed start (Redis clients, the audit sink).
    await closeState();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${config.host}:${port}`,
    port,
    gate,
    server,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closeState();
    },
  };
}
