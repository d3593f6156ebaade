/** toolgate's public API: the middleware, its stages, and the agent-side signer. */
export { toolgate, type Toolgate, type ToolgateContext } from './gateway/middleware.js';
export type { ToolgateOptions, AuditOptions } from './gateway/options.js';
export type { Logger } from './logger.js';
export { createVerifier } from './identity/index.js';
export type { IdentityOptions, VerifiedAgent, Verifier, IdentityReason } from './identity/index.js';
export { IdentityError, IDENTITY_REASONS } from './identity/index.js';
export { ToolgateError, ConfigError, BadRequestError, UnavailableError } from './errors.js';
export type { PolicyInput, Decision, Reason, LimitObligation } from './policy/types.js';
export { loadBundle, PolicyEngine } from './policy/index.js';
export type { AuditEvent, AuditSink } from './audit/types.js';
export { FileSink, KafkaSink, SpoolSink, verifyEvents, readTopic } from './audit/index.js';
export { setupTelemetry } from './telemetry/setup.js';
export { MemoryUploadStore, uploadsRouter, type UploadStore, type UploadRecord } from './uploads/index.js';
export { AgentClient } from './agent/client.js';
export { createSignedFetch, signRequest, generateAgentKey } from './agent/index.js';
export { consoleRouter, CONSOLE_CSP, type ConsoleOptions } from './console/index.js';
export { ToolCatalog, type ToolDefinitionFacts } from './gateway/mcp-tool-catalog.js';
