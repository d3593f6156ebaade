import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import type { PolicyEngineOptions, PolicyInput } from '../policy/types.js';
import { bundleSource, DEFAULT_POLLING, loadVerificationKey, type BundleSource, type BundleVerification, type PollingOptions } from '../policy/index.js';
import type { Verifier } from '../identity/types.js';
import type { AuditSink } from '../audit/types.js';
import { DEFAULT_AUDIT_TOPIC } from '../audit/types.js';
import { FileSink } from '../audit/file-sink.js';
import { KafkaSink } from '../audit/kafka-sink.js';
import type { TopicDurability } from '../audit/topic-check.js';
import { SpoolSink, type Durability } from '../audit/spool-sink.js';
import { assertTimezone } from '../input/clock.js';
import { MemoryUploadStore } from '../uploads/memory-store.js';
import type { UploadStore } from '../uploads/types.js';
import { MemoryLimitStore } from '../limits/memory-store.js';
import type { LimitStore } from '../limits/types.js';
import { MemoryApprovalStore, type ApprovalStore } from '../approvals/index.js';
import type { BreakGlassVerifier } from '../breakglass/index.js';
import type { Logger } from '../logger.js';
import { MemoryMcpSessionStore, type McpSessionStore } from './mcp-sessions.js';
import { ToolCatalog } from './mcp-tool-catalog.js';
import { RequestStateSealer } from './mcp-approval.js';
import { ElicitationSessions } from './mcp-elicitation.js';
import { resolveJsonLimits, type JsonLimits } from '../extract/json-limits.js';

export interface AuditOptions {
  /** A ready sink (tests, custom stores). Overrides `file` and `kafka`. */
  readonly sink?: AuditSink;
  /** JSONL file for the embedded file sink. Default `.toolgate/audit.jsonl`. */
  readonly file?: string;
  /**
   * Kafka brokers and topic; when set, events stream to Kafka instead of the file. The topic's replication is
   * checked at start (README, Production topology): `replicationFactor` (default 3, or fewer live brokers),
   * `minInsyncReplicas` (default 2 with 3 replicas), `topicCheck` `fail` (default) or `warn` on a weaker topic.
   */
  readonly kafka?: { readonly brokers: readonly string[]; readonly topic?: string } & TopicDurability;
  /** The gateway's Ed25519 key that signs the chain; else read from (or created at) `keyFile`. */
  readonly signingKey?: KeyObject;
  /** PEM file of the audit signing key. Default `.toolgate/audit-ed25519.pem`, created 0600 when missing. */
  readonly keyFile?: string;
  /** When the audit path is down, refuse (503) instead of executing unaudited. Default true. */
  readonly failClosed?: boolean;
  /**
   * With Kafka: when a decision counts as recorded. `spool` (default) — fsync'd to the local spool, forwarded to
   * Kafka in order as soon as the broker takes it; `kafka` — acknowledged by all in-sync replicas.
   */
  readonly durability?: Durability;
  /** Directory of the local spool in front of Kafka. Default `.toolgate/spool`. */
  readonly spoolDir?: string;
  /** With durability `kafka`, how long a request waits for the broker. Default 5000 ms. */
  readonly ackTimeoutMs?: number;
}

export interface ToolgateOptions {
  /** Policy bundle from `make policy`: a directory with policy.wasm, data.json, .manifest, or bundle.tar.gz. */
  readonly policy: {
    readonly bundle: string;
    readonly name?: string;
    /** Time budget of one evaluation, ms; past it the call gets 503 `policy_timeout` and the thread is replaced. Default 500. */
    readonly timeoutMs?: number;
    /** Evaluator threads. Default 2; 0 evaluates on the event loop with no time budget. */
    readonly workers?: number;
    /**
     * PEM public key (RSA, EC or Ed25519) that signed bundles must verify with (`opa build --signing-key`). When
     * set, unsigned, tampered and wrongly signed bundles are refused. Default: signatures are not checked.
     */
    readonly verificationKeyFile?: string;
    /** With verificationKeyFile: the key id the signature must name. Default: any. */
    readonly verificationKeyId?: string;
    /**
     * Poll the bundle for new revisions and swap them in without a restart, as OPA's bundle plugin does: a random
     * wait between minDelayMs and maxDelayMs after each poll, backoff up to maxDelayMs after errors. Default for
     * an http(s) bundle: 60,000-120,000 ms; for a file or directory: not polled.
     */
    readonly polling?: { readonly minDelayMs?: number; readonly maxDelayMs?: number } | false;
    /** For an http(s) bundle: file with a bearer token sent as `Authorization: Bearer`, re-read on every poll. */
    readonly tokenFile?: string;
    /** For an http(s) bundle: time one download may take. Default 10,000 ms. */
    readonly downloadTimeoutMs?: number;
    /**
     * Shadow mode: a candidate bundle (path or URL; verified, polled and swapped like the active one, with the same
     * key, token and polling) evaluated beside the active policy for `fraction` of decisions (default 1), never
     * enforced. Its verdict goes into the audit event's `shadow`, the span's `toolgate.shadow.*` and
     * `toolgate.shadow.disagreements`.
     */
    readonly shadow?: { readonly bundle: string; readonly fraction?: number };
    /**
     * Canary: a candidate bundle (verified, polled and swapped like the active one) enforced for `fraction` of
     * agents (required, 0-1), chosen by a hash of the agent id so an agent always sees one policy. The candidate's
     * data may set `toolgate.rollout.canary_fraction`, which wins: publish it with 1 to promote, 0 to roll back.
     */
    readonly canary?: { readonly bundle: string; readonly fraction: number };
    /**
     * An external decision point asked instead of evaluating the bundle in process — an OPA REST sidecar, say
     * (benchmarks compare the two this way). Its answer passes the same decision contract (a malformed one fails
     * closed, undefined is 503 `policy_undefined`). The bundle is still loaded: it names the revision the audit
     * records, so serve the sidecar the same bundle. Default: none (in-process WASM).
     */
    readonly decisionPoint?: (input: PolicyInput) => Promise<unknown>;
  };
  /** The identity stage (see `createVerifier`). */
  readonly verifier: Verifier;
  readonly audit?: AuditOptions;
  /** Stable id of this gateway instance: audit partition key and chain id. Default `toolgate-<hostname>`. */
  readonly gatewayId?: string;
  /** `input.context.environment`. Default `development`. */
  readonly environment?: string;
  /** IANA zone for `input.context.weekday`/`hour`/`minute`. Default: the policy data's `toolgate.config.timezone`, else `UTC`. */
  readonly timezone?: string;
  /** Largest request body accepted, bytes. Default 1 MiB. */
  readonly bodyLimit?: number;
  /**
   * Shape limits on JSON bodies, checked before anything walks them: `maxDepth` (nesting of objects and arrays,
   * default 64) and `maxElements` (values in the body, default 10,000). Beyond either: 400 `json_too_deep` /
   * `json_too_many_elements`.
   */
  readonly json?: Readonly<Partial<JsonLimits>>;
  /** Path of the MCP Streamable HTTP endpoint. Default `/mcp`. Origin-form, spelled exactly as agents call it. */
  readonly mcpPath?: string;
  /** Prefix of the plain HTTP tool routes, `POST {toolsPath}/{tool}`. Default `/tools`. */
  readonly toolsPath?: string;
  /** Owners of MCP sessions (who opened which `Mcp-Session-Id`). Default: in memory, 100,000 sessions, 24 h idle. */
  readonly mcpSessions?: McpSessionStore;
  /**
   * The MCP service's tool definitions as last listed through this gateway (annotations and digest for
   * `input.tool`). Default: in memory, 10,000 tools. Pass one catalog to gateways in front of the same service.
   */
  readonly toolCatalog?: ToolCatalog;
  /**
   * Origins (scheme://host[:port], exactly as browsers send them) that may use the MCP endpoint. A request with any
   * other Origin header gets 403 `mcp_origin_forbidden`; requests without one (agents) are not affected. Default: none.
   */
  readonly mcpAllowedOrigins?: readonly string[];
  /**
   * The gateway's URL as people reach it (scheme://host[:port]), for links such as the approval page an MCP client
   * is sent to. Default: taken from each request's Host (set it in production: a Host header is the caller's say-so).
   */
  readonly publicUrl?: string;
  /**
   * 32-byte key that seals MCP 2026-07-28 `requestState` (AES-256-GCM). Default: random per process, so a retry
   * must come back to the same instance; give every instance the same key to let it reach any.
   */
  readonly mcpStateKey?: Buffer;
  /**
   * MCP methods other than `tools/call` that signed agents may send through to the service (no policy decision).
   * Default: initialize, ping, tools/list and the initialized/cancelled/progress notifications. Anything else is
   * refused with `mcp_method_not_allowed`.
   */
  readonly mcpMethods?: readonly string[];
  /** Gateway version in audit labels. */
  readonly version?: string;
  /** Clock, epoch ms (tests). */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Where human uploads live, for attachment provenance. Default: in memory (see uploadsRouter). */
  readonly uploads?: UploadStore;
  /** Rate limits, budgets and cooldowns. Default: in memory; `createLimitStore({ redisUrl })` for several gateways. */
  readonly limits?: LimitStore;
  /** Human approvals. Default: in memory; `createApprovalStore({ redisUrl })` for several gateways. */
  readonly approvals?: ApprovalStore;
  /** Verifies `Toolgate-Break-Glass` tokens. Default: none configured (every token is invalid: `key_unknown`). */
  readonly breakGlass?: BreakGlassVerifier;
}

const KNOWN = new Set(['policy', 'verifier', 'audit', 'gatewayId', 'environment', 'timezone', 'bodyLimit', 'json', 'mcpPath', 'toolsPath', 'mcpSessions', 'toolCatalog', 'mcpAllowedOrigins', 'publicUrl', 'mcpStateKey', 'version', 'now', 'logger', 'uploads', 'limits', 'approvals', 'breakGlass', 'mcpMethods']);
const KNOWN_POLICY = new Set(['bundle', 'name', 'timeoutMs', 'workers', 'verificationKeyFile', 'verificationKeyId', 'polling', 'tokenFile', 'downloadTimeoutMs', 'shadow', 'canary', 'decisionPoint']);
const KNOWN_AUDIT = new Set(['sink', 'file', 'kafka', 'signingKey', 'keyFile', 'failClosed', 'durability', 'spoolDir', 'ackTimeoutMs']);

export interface Configuration {
  readonly bundle: string;
  readonly bundleName: string;
  readonly engine: PolicyEngineOptions;
  readonly decisionPoint: ((input: PolicyInput) => Promise<unknown>) | undefined;
  /** Where revisions come from, how they are verified and how often they are polled (undefined: loaded once). */
  readonly bundleSource: BundleSource;
  /** A bundle (directory, archive or bundle server URL) as a source, with the configured token file and timeout. */
  readonly sourceOf: (bundle: string) => BundleSource;
  readonly verification: BundleVerification | undefined;
  readonly polling: PollingOptions | undefined;
  /** A shadow candidate's source and sampled share of decisions. */
  readonly shadow: Candidate | undefined;
  /** A canary candidate's source and share of agents. */
  readonly canary: Candidate | undefined;
  readonly verifier: Verifier;
  readonly gatewayId: string;
  readonly environment: string;
  /** Undefined: take the policy data's timezone when the bundle loads. */
  readonly timezone: string | undefined;
  readonly bodyLimit: number;
  readonly json: JsonLimits;
  readonly mcpPath: string;
  readonly toolsPath: string;
  readonly mcpSessions: McpSessionStore;
  readonly toolCatalog: ToolCatalog;
  readonly mcpAllowedOrigins: ReadonlySet<string>;
  readonly publicUrl: string | undefined;
  readonly requestStates: RequestStateSealer;
  /** Sessions that declared URL-mode elicitation, and the approval each elicited call was sent to (in this process). */
  readonly elicitations: ElicitationSessions;
  readonly mcpMethods: ReadonlySet<string>;
  readonly version: string;
  readonly now: () => number;
  readonly logger: Logger;
  readonly failClosed: boolean;
  readonly signingKey: KeyObject;
  readonly makeSink: () => AuditSink;
  readonly uploads: UploadStore;
  readonly limits: LimitStore;
  readonly approvals: ApprovalStore;
  readonly breakGlass: BreakGlassVerifier;
}

/** A candidate bundle (shadow or canary) and the share of decisions or agents it covers. */
export interface Candidate {
  readonly source: BundleSource;
  readonly fraction: number;
}

export const DEFAULT_MCP_METHODS: readonly string[] = ['initialize', 'ping', 'tools/list', 'notifications/initialized', 'notifications/cancelled', 'notifications/progress'];

/** No admin keys configured: every token is refused as signed by an unknown key (the policy sees valid:false). */
export const NO_BREAK_GLASS: BreakGlassVerifier = {
  check: (token) => (token === undefined ? null : { valid: false, error: 'key_unknown' }),
  inspect: (token) => (token === undefined ? null : { facts: { valid: false, error: 'key_unknown' } }),
};

const silent: Logger = { warn: () => undefined, error: () => undefined };

function rejectUnknown(given: object, known: Set<string>, where: string): void {
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      const near = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
      throw new ConfigError('option_unknown', `Unknown toolgate option ${where}${key}.${near ? ` Did you mean ${near}?` : ` Known options: ${[...known].join(', ')}.`}`);
    }
  }
}

/** Reads the audit key, creating one (0600) on first start so a fresh demo just works. */
export function loadOrCreateSigningKey(path: string): KeyObject {
  if (existsSync(path)) {
    const key = createPrivateKey(readFileSync(path));
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError('audit_key_invalid', `The audit signing key ${path} is ${key.asymmetricKeyType}; it must be Ed25519 (generate one with \`toolgate audit keygen\`).`);
    return key;
  }
  mkdirSync(dirname(path), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
  return privateKey;
}

function checkDecisionPoint(point: unknown): ((input: PolicyInput) => Promise<unknown>) | undefined {
  if (point !== undefined && typeof point !== 'function') throw new ConfigError('policy_options_invalid', 'policy.decisionPoint must be a function (input) => Promise<decision>, e.g. a call to an OPA sidecar; omit it to evaluate the bundle in process.');
  return point as ((input: PolicyInput) => Promise<unknown>) | undefined;
}

/** Route paths are compared with the request target byte for byte: only plain origin-form paths make sense. */
function checkRoutePath(path: string, name: string): string {
  if (typeof path !== 'string' || !/^(?:\/[A-Za-z0-9._~-]+)+$/.test(path) || /\/\.\.?(?:\/|$)/.test(path)) {
    throw new ConfigError('route_path_invalid', `${name} must be an origin-form path of plain segments (letters, digits, ".", "_", "~", "-"), e.g. "/mcp" or "/api/tools", not ${JSON.stringify(path)}.`);
  }
  return path;
}

export function checkTimezone(timezone: string, where: string): void {
  try {
    assertTimezone(timezone);
  } catch {
    throw new ConfigError('timezone_invalid', `${where} ${JSON.stringify(timezone)} is not an IANA time zone; use e.g. "UTC" or "America/New_York".`);
  }
}

/** Validates options once at start-up and resolves defaults (STYLE.md habit 2). */
export function resolveOptions(options: Readonly<ToolgateOptions>): Configuration {
  if (!options || typeof options !== 'object') throw new ConfigError('options_missing', 'toolgate(options) needs an options object with at least policy.bundle and verifier.');
  rejectUnknown(options, KNOWN, '');
  const audit = options.audit ?? {};
  rejectUnknown(audit, KNOWN_AUDIT, 'audit.');
  if (!options.policy || typeof options.policy.bundle !== 'string' || options.policy.bundle === '') {
    throw new ConfigError('policy_bundle_missing', 'Set policy.bundle to the bundle built by `make policy` (build/policy or build/policy/bundle.tar.gz).');
  }
  rejectUnknown(options.policy, KNOWN_POLICY, 'policy.');
  if (!options.verifier || typeof options.verifier.verify !== 'function') {
    throw new ConfigError('verifier_missing', 'Set verifier to the identity stage, e.g. `verifier: await createVerifier({ jwks: "agents.jwks.json" })`.');
  }
  const timezone = options.timezone;
  if (timezone !== undefined) checkTimezone(timezone, 'timezone');
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  if (!Number.isInteger(bodyLimit) || bodyLimit <= 0) throw new ConfigError('body_limit_invalid', 'bodyLimit must be a positive integer number of bytes (default 1048576).');
  const gatewayId = options.gatewayId ?? `toolgate-${hostname()}`;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(gatewayId)) throw new ConfigError('gateway_id_invalid', 'gatewayId must be 1-128 characters of letters, digits, ".", "_", ":" and "-".');
  if (audit.durability !== undefined && audit.durability !== 'spool' && audit.durability !== 'kafka') {
    throw new ConfigError('durability_invalid', `audit.durability must be "spool" or "kafka", not ${JSON.stringify(audit.durability)}.`);
  }
  const logger = options.logger ?? silent;
  if (audit.kafka && (!Array.isArray(audit.kafka.brokers) || audit.kafka.brokers.length === 0)) {
    throw new ConfigError('kafka_brokers_invalid', 'audit.kafka.brokers must list at least one host:port (TOOLGATE_KAFKA_BROKERS=127.0.0.1:9092).');
  }
  const signingKey = audit.signingKey ?? loadOrCreateSigningKey(audit.keyFile ?? '.toolgate/audit-ed25519.pem');
  const version = options.version ?? '0.1.0';
  const makeSink = (): AuditSink => {
    if (audit.sink) return audit.sink;
    if (audit.kafka) {
      const { brokers, topic, ...durability } = audit.kafka;
      const kafka = new KafkaSink({
        brokers, topic: topic ?? DEFAULT_AUDIT_TOPIC, clientId: gatewayId, key: gatewayId, durability,
        onWarning: (f) => logger.warn(`audit topic weaker than required, started anyway (TOOLGATE_KAFKA_TOPIC_CHECK=warn): ${f.message}`, { reason: f.code }),
      });
      return new SpoolSink({
        dir: audit.spoolDir ?? '.toolgate/spool',
        inner: kafka,
        durability: audit.durability ?? 'spool',
        ...(audit.ackTimeoutMs ? { ackTimeoutMs: audit.ackTimeoutMs } : {}),
        onForwardError: (error) => logger.warn('audit spool: forwarding to Kafka or spool bookkeeping failed; events stay spooled and it will retry', { error: error instanceof Error ? error.message : String(error) }),
      });
    }
    return new FileSink(audit.file ?? '.toolgate/audit.jsonl');
  };
  return {
    bundle: options.policy.bundle,
    bundleName: options.policy.name ?? 'toolgate',
    ...resolvePolicySource(options.policy),
    decisionPoint: checkDecisionPoint(options.policy.decisionPoint),
    engine: { ...(options.policy.timeoutMs !== undefined ? { timeoutMs: options.policy.timeoutMs } : {}), ...(options.policy.workers !== undefined ? { workers: options.policy.workers } : {}) },
    verifier: options.verifier,
    gatewayId,
    environment: options.environment ?? 'development',
    timezone,
    bodyLimit,
    json: resolveJsonLimits(options.json),
    mcpPath: checkRoutePath(options.mcpPath ?? '/mcp', 'mcpPath'),
    toolsPath: checkRoutePath(options.toolsPath ?? '/tools', 'toolsPath'),
    mcpSessions: options.mcpSessions ?? new MemoryMcpSessionStore(),
    toolCatalog: options.toolCatalog ?? new ToolCatalog(),
    mcpAllowedOrigins: new Set(options.mcpAllowedOrigins ?? []),
    publicUrl: options.publicUrl,
    requestStates: new RequestStateSealer(options.mcpStateKey),
    elicitations: new ElicitationSessions(),
    mcpMethods: new Set(options.mcpMethods ?? DEFAULT_MCP_METHODS),
    version,
    now: options.now ?? Date.now,
    logger,
    failClosed: audit.failClosed ?? true,
    signingKey,
    makeSink,
    uploads: options.uploads ?? new MemoryUploadStore(),
    limits: options.limits ?? new MemoryLimitStore(),
    approvals: options.approvals ?? new MemoryApprovalStore(),
    breakGlass: options.breakGlass ?? NO_BREAK_GLASS,
  };
}

/** The bundle source, its verification key (read once) and its polling, from `policy` options. */
function resolvePolicySource(policy: ToolgateOptions['policy']): Pick<Configuration, 'bundleSource' | 'sourceOf' | 'verification' | 'polling' | 'shadow' | 'canary'> {
  const remote = /^https?:\/\//i.test(policy.bundle);
  if (!remote && (policy.tokenFile !== undefined || policy.downloadTimeoutMs !== undefined)) {
    throw new ConfigError('policy_options_invalid', 'policy.tokenFile and policy.downloadTimeoutMs apply to an http(s) bundle URL only: set policy.bundle to the bundle server URL or drop them.');
  }
  if (policy.downloadTimeoutMs !== undefined && (!Number.isInteger(policy.downloadTimeoutMs) || policy.downloadTimeoutMs < 1)) {
    throw new ConfigError('policy_options_invalid', `policy.downloadTimeoutMs must be a positive whole number of milliseconds (got ${String(policy.downloadTimeoutMs)}); the default is 10000.`);
  }
  let polling: PollingOptions | undefined;
  if (policy.polling !== false && (policy.polling !== undefined || remote)) {
    const minDelayMs = policy.polling?.minDelayMs ?? DEFAULT_POLLING.minDelayMs;
    const maxDelayMs = policy.polling?.maxDelayMs ?? Math.max(minDelayMs, DEFAULT_POLLING.maxDelayMs);
    if (!Number.isFinite(minDelayMs) || !Number.isFinite(maxDelayMs) || minDelayMs < 1 || maxDelayMs < minDelayMs) {
      throw new ConfigError('policy_polling_invalid', `policy.polling needs 1 <= minDelayMs <= maxDelayMs (got ${String(minDelayMs)} and ${String(maxDelayMs)}); the defaults are ${DEFAULT_POLLING.minDelayMs} and ${DEFAULT_POLLING.maxDelayMs}.`);
    }
    polling = { minDelayMs, maxDelayMs };
  }
  const verification: BundleVerification | undefined = policy.verificationKeyFile
    ? { publicKey: loadVerificationKey(policy.verificationKeyFile), ...(policy.verificationKeyId !== undefined ? { keyId: policy.verificationKeyId } : {}) }
    : undefined;
  if (!verification && policy.verificationKeyId !== undefined) {
    throw new ConfigError('policy_options_invalid', 'policy.verificationKeyId needs policy.verificationKeyFile (the public key the bundles are signed with).');
  }
  const http = {
    ...(policy.tokenFile !== undefined ? { tokenFile: policy.tokenFile } : {}),
    ...(policy.downloadTimeoutMs !== undefined ? { timeoutMs: policy.downloadTimeoutMs } : {}),
  };
  const sourceOf = (bundle: string): BundleSource => bundleSource(bundle, http);
  const candidate = (kind: 'shadow' | 'canary', given: { bundle: string; fraction?: number } | undefined): Candidate | undefined => {
    if (given === undefined) return undefined;
    const { bundle, fraction = kind === 'shadow' ? 1 : Number.NaN } = given;
    const share = kind === 'shadow' ? 'decisions' : 'agents';
    if (typeof bundle !== 'string' || bundle === '') throw new ConfigError(`policy_${kind}_invalid`, `policy.${kind}.bundle must name the candidate bundle (a directory, bundle.tar.gz or bundle server URL).`);
    if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) throw new ConfigError(`policy_${kind}_invalid`, `policy.${kind}.fraction must be the share of ${share} from 0 to 1 (got ${String(given.fraction)})${kind === 'shadow' ? '; the default is 1, every decision' : ''}.`);
    return { source: sourceOf(bundle), fraction };
  };
  return { bundleSource: sourceOf(policy.bundle), sourceOf, verification, polling, shadow: candidate('shadow', policy.shadow), canary: candidate('canary', policy.canary) };
}
