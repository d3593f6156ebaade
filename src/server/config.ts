import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { CHECK_PLACEMENTS, type CheckPlacement } from '../identity/check-placement.js';
import { DEFAULT_AUDIT_TOPIC } from '../audit/types.js';
import type { TopicDurability } from '../audit/topic-check.js';

/** The gateway process's configuration: a JSON file for the full picture, environment variables on top. */
export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly gatewayId: string | undefined;
  readonly environment: string;
  /** Undefined: the policy data's timezone. */
  readonly timezone: string | undefined;
  readonly policyBundle: string;
  /** Time budget of one policy evaluation (503 policy_timeout past it). */
  readonly policyTimeoutMs: number;
  /**
   * Where request signatures are checked (identity/check-placement.ts): `pool` off the event loop, `inline` on it;
   * unset: `pool` for one process, `inline` in each `serve --workers` process.
   */
  readonly signatureCheck: CheckPlacement | undefined;
  /** PEM public key signed bundles must verify with; unset: signatures are not checked. */
  readonly policyVerificationKey: string | undefined;
  /** The key id signatures must name (with policyVerificationKey). */
  readonly policyVerificationKeyId: string | undefined;
  /** Bearer token file for an http(s) policyBundle. */
  readonly policyTokenFile: string | undefined;
  /** Polling of the bundle: undefined takes the default (http(s): 60-120 s; files: not polled), false turns it off. */
  readonly policyPolling: { readonly minDelayMs: number; readonly maxDelayMs: number } | false | undefined;
  /** Shadow candidate bundle (path or URL) and the share of decisions it evaluates. */
  readonly policyShadow: { readonly bundle: string; readonly fraction: number } | undefined;
  /** Canary candidate bundle (path or URL) and the share of agents it decides for. */
  readonly policyCanary: { readonly bundle: string; readonly fraction: number } | undefined;
  /** JWKS files of registered agent keys. */
  readonly agentKeys: readonly string[];
  /** JWKS files of the admin keys that sign break-glass tokens (none: every token is refused). */
  readonly breakGlassKeys: readonly string[];
  /** Browser origins that may use /mcp (TOOLGATE_MCP_ALLOWED_ORIGINS, comma-separated); any other Origin gets 403. */
  readonly mcpAllowedOrigins: readonly string[];
  /** The gateway's URL as people reach it (TOOLGATE_PUBLIC_URL), for the approval links MCP clients are sent to. */
  readonly publicUrl: string | undefined;
  /** 32-byte key sealing MCP requestState (TOOLGATE_MCP_STATE_KEY_FILE: the key in base64); unset: random per process. */
  readonly mcpStateKey: Buffer | undefined;
  readonly audit: {
    readonly file: string;
    readonly keyFile: string;
    /** Brokers, topic and the replication the topic must have (TOOLGATE_KAFKA_REPLICATION_FACTOR, ...). */
    readonly kafka: ({ readonly brokers: readonly string[]; readonly topic: string } & TopicDurability) | undefined;
    readonly failClosed: boolean;
    readonly durability: 'spool' | 'kafka';
    readonly spoolDir: string;
    /** With durability `kafka`: how long a call waits for the broker's acknowledgement before failing closed. */
    readonly ackTimeoutMs: number;
  };
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key (nonces, limits, approvals, uploads): deployments sharing a Redis keep apart. */
  readonly redisPrefix: string;
  readonly telemetry: { readonly serviceName: string; readonly otlpEndpoint: string | undefined };
  readonly stateDir: string;
  /**
   * Identity options from the config file (`identity`), passed to createVerifier: required components, labels,
   * clock skew, `production`, `revokedThumbprints`, `webBotAuth`, `cavage`... (README, Agent identity).
   */
  readonly identity: Readonly<Record<string, unknown>>;
  /** The approvals and decisions console at /console (README, Console): off unless enabled (the demo enables it). */
  readonly console: { readonly enabled: boolean; readonly jaegerUrl: string | undefined; readonly auditFiles: readonly string[] | undefined };
}

type Env = Readonly<Record<string, string | undefined>>;

const FILE_KEYS = new Set(['host', 'port', 'gatewayId', 'environment', 'timezone', 'policyBundle', 'policyTimeoutMs', 'signatureCheck', 'policyVerificationKey', 'policyVerificationKeyId', 'policyTokenFile', 'policyPollMinMs', 'policyPollMaxMs', 'policyShadowBundle', 'policyShadowFraction', 'policyCanaryBundle', 'policyCanaryFraction', 'agentKeys', 'breakGlassKeys', 'mcpAllowedOrigins', 'publicUrl', 'mcpStateKeyFile', 'audit', 'redisUrl', 'redisPrefix', 'telemetry', 'stateDir', 'identity', 'console']);

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function port(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError('port_invalid', `${name}=${String(value)} is not a TCP port: use a number from 0 to 65535 (0 picks a free port).`);
  return n;
}

function positiveMs(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError('timeout_invalid', `${name}=${String(value)} must be a positive whole number of milliseconds.`);
  return n;
}

/** Bundle polling from TOOLGATE_POLICY_POLL_MIN_MS / _MAX_MS: "0" for the minimum turns polling off. */
function polling(min: unknown, max: unknown): ServerConfig['policyPolling'] {
  if (min === undefined && max === undefined) return undefined;
  if (min !== undefined && Number(min) === 0) return false;
  const minDelayMs = positiveMs(min ?? 60_000, 'TOOLGATE_POLICY_POLL_MIN_MS');
  const maxDelayMs = positiveMs(max ?? Math.max(minDelayMs, 120_000), 'TOOLGATE_POLICY_POLL_MAX_MS');
  if (maxDelayMs < minDelayMs) throw new ConfigError('policy_polling_invalid', `TOOLGATE_POLICY_POLL_MAX_MS=${maxDelayMs} is below TOOLGATE_POLICY_POLL_MIN_MS=${minDelayMs}: the maximum wait must be at least the minimum.`);
  return { minDelayMs, maxDelayMs };
}

/** A shadow (fraction of decisions, default 1) or canary (fraction of agents, required) candidate. */
function candidate(kind: 'SHADOW' | 'CANARY', bundle: string | undefined, fraction: unknown): ServerConfig['policyShadow'] {
  const code = `policy_${kind.toLowerCase()}_invalid`;
  if (bundle === undefined || bundle === '') {
    if (fraction !== undefined) throw new ConfigError(code, `TOOLGATE_POLICY_${kind}_FRACTION needs TOOLGATE_POLICY_${kind}_BUNDLE (the candidate bundle).`);
    return undefined;
  }
  const share = fraction === undefined && kind === 'SHADOW' ? 1 : Number(fraction);
  if (!(share >= 0 && share <= 1)) {
    throw new ConfigError(code, `TOOLGATE_POLICY_${kind}_FRACTION=${String(fraction)} must be the share of ${kind === 'SHADOW' ? 'decisions from 0 to 1 (default 1)' : 'agents from 0 to 1 the candidate decides for'}.`);
  }
  return { bundle, fraction: share };
}

/** The audit topic's required replication; values are validated where the sink is built (topic-check.ts). */
function topicDurability(env: Env, f: TopicDurability | undefined): TopicDurability {
  const rf = env.TOOLGATE_KAFKA_REPLICATION_FACTOR ?? f?.replicationFactor;
  const isr = env.TOOLGATE_KAFKA_MIN_INSYNC_REPLICAS ?? f?.minInsyncReplicas;
  const check = env.TOOLGATE_KAFKA_TOPIC_CHECK ?? f?.topicCheck;
  return {
    ...(rf !== undefined && rf !== '' ? { replicationFactor: Number(rf) } : {}),
    ...(isr !== undefined && isr !== '' ? { minInsyncReplicas: Number(isr) } : {}),
    ...(check !== undefined && check !== '' ? { topicCheck: check as 'fail' | 'warn' } : {}),
  };
}

function durability(value: string): 'spool' | 'kafka' {
  if (value !== 'spool' && value !== 'kafka') throw new ConfigError('durability_invalid', `TOOLGATE_AUDIT_DURABILITY=${value}: use "spool" (local fsync, then Kafka) or "kafka" (broker acknowledgement).`);
  return value;
}

/**
 * Reads `TOOLGATE_CONFIG` (a JSON file, optional) and applies environment overrides. Unset broker and Redis
 * settings mean the embedded defaults: the JSONL audit file and in-memory state.
 */
export function loadServerConfig(env: Env = process.env): ServerConfig {
  let file: Record<string, unknown> = {};
  if (env.TOOLGATE_CONFIG) {
    try {
      file = JSON.parse(readFileSync(env.TOOLGATE_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch (cause) {
      throw new ConfigError('config_file_invalid', `TOOLGATE_CONFIG=${env.TOOLGATE_CONFIG} could not be read as JSON: fix the file or unset the variable.`, { cause });
    }
    for (const k of Object.keys(file)) {
      if (!FILE_KEYS.has(k)) throw new ConfigError('config_key_unknown', `Unknown key "${k}" in ${env.TOOLGATE_CONFIG}; known keys: ${[...FILE_KEYS].join(', ')}.`);
    }
  }
  const f = file as Partial<{
    host: string; port: number; gatewayId: string; environment: string; timezone: string; policyBundle: string; policyTimeoutMs: number; signatureCheck: string; policyVerificationKey: string; policyVerificationKeyId: string; policyTokenFile: string; policyPollMinMs: number; policyPollMaxMs: number; policyShadowBundle: string; policyShadowFraction: number; policyCanaryBundle: string; policyCanaryFraction: number; agentKeys: string[]; breakGlassKeys: string[]; mcpAllowedOrigins: string[]; publicUrl: string; mcpStateKeyFile: string;
    audit: { file?: string; keyFile?: string; kafka?: { brokers?: string[]; topic?: string } & TopicDurability; failClosed?: boolean; durability?: 'spool' | 'kafka'; spoolDir?: string; ackTimeoutMs?: number };
    redisUrl: string; redisPrefix: string; telemetry: { serviceName?: string; otlpEndpoint?: string }; stateDir: string; identity: Record<string, unknown>; console: { enabled?: boolean; jaegerUrl?: string; auditFiles?: string[] };
  }>;
  const stateDir = env.TOOLGATE_STATE_DIR ?? f.stateDir ?? '.toolgate';
  const brokers = list(env.TOOLGATE_KAFKA_BROKERS) ?? f.audit?.kafka?.brokers;
  const failClosedEnv = env.TOOLGATE_AUDIT_FAIL_CLOSED;
  if (failClosedEnv !== undefined && !['true', 'false'].includes(failClosedEnv)) {
    throw new ConfigError('fail_closed_invalid', 'TOOLGATE_AUDIT_FAIL_CLOSED must be "true" or "false".');
  }
  return {
    host: env.TOOLGATE_HOST ?? f.host ?? '127.0.0.1',
    port: port(env.PORT ?? f.port ?? 8080, 'PORT'),
    gatewayId: env.TOOLGATE_GATEWAY_ID ?? f.gatewayId,
    environment: env.TOOLGATE_ENVIRONMENT ?? f.environment ?? 'development',
    timezone: env.TOOLGATE_TIMEZONE ?? f.timezone,
    policyBundle: env.TOOLGATE_POLICY_BUNDLE ?? f.policyBundle ?? 'build/policy',
    policyTimeoutMs: positiveMs(env.TOOLGATE_POLICY_TIMEOUT_MS ?? f.policyTimeoutMs ?? 500, 'TOOLGATE_POLICY_TIMEOUT_MS'),
    signatureCheck: placement(env.TOOLGATE_SIGNATURE_CHECK ?? f.signatureCheck),
    policyVerificationKey: env.TOOLGATE_POLICY_VERIFICATION_KEY ?? f.policyVerificationKey,
    policyVerificationKeyId: env.TOOLGATE_POLICY_VERIFICATION_KEY_ID ?? f.policyVerificationKeyId,
    policyTokenFile: env.TOOLGATE_POLICY_TOKEN_FILE ?? f.policyTokenFile,
    policyPolling: polling(env.TOOLGATE_POLICY_POLL_MIN_MS ?? f.policyPollMinMs, env.TOOLGATE_POLICY_POLL_MAX_MS ?? f.policyPollMaxMs),
    policyShadow: candidate('SHADOW', env.TOOLGATE_POLICY_SHADOW_BUNDLE ?? f.policyShadowBundle, env.TOOLGATE_POLICY_SHADOW_FRACTION ?? f.policyShadowFraction),
    policyCanary: candidate('CANARY', env.TOOLGATE_POLICY_CANARY_BUNDLE ?? f.policyCanaryBundle, env.TOOLGATE_POLICY_CANARY_FRACTION ?? f.policyCanaryFraction),
    agentKeys: list(env.TOOLGATE_AGENT_KEYS) ?? f.agentKeys ?? [],
    breakGlassKeys: list(env.TOOLGATE_BREAK_GLASS_KEYS) ?? f.breakGlassKeys ?? [],
    mcpAllowedOrigins: list(env.TOOLGATE_MCP_ALLOWED_ORIGINS) ?? f.mcpAllowedOrigins ?? [],
    publicUrl: env.TOOLGATE_PUBLIC_URL ?? f.publicUrl,
    mcpStateKey: stateKey(env.TOOLGATE_MCP_STATE_KEY_FILE ?? f.mcpStateKeyFile),
    audit: {
      file: env.TOOLGATE_AUDIT_FILE ?? f.audit?.file ?? `${stateDir}/audit.jsonl`,
      keyFile: env.TOOLGATE_AUDIT_KEY_FILE ?? f.audit?.keyFile ?? `${stateDir}/audit-ed25519.pem`,
      kafka: brokers?.length ? { brokers, topic: env.TOOLGATE_AUDIT_TOPIC ?? f.audit?.kafka?.topic ?? DEFAULT_AUDIT_TOPIC, ...topicDurability(env, f.audit?.kafka) } : undefined,
      failClosed: failClosedEnv !== undefined ? failClosedEnv === 'true' : (f.audit?.failClosed ?? true),
      durability: durability(env.TOOLGATE_AUDIT_DURABILITY ?? f.audit?.durability ?? 'spool'),
      spoolDir: env.TOOLGATE_AUDIT_SPOOL_DIR ?? f.audit?.spoolDir ?? `${stateDir}/spool`,
      ackTimeoutMs: positiveMs(env.TOOLGATE_AUDIT_ACK_TIMEOUT_MS ?? f.audit?.ackTimeoutMs ?? 5000, 'TOOLGATE_AUDIT_ACK_TIMEOUT_MS'),
    },
    redisUrl: env.TOOLGATE_REDIS_URL ?? f.redisUrl,
    redisPrefix: env.TOOLGATE_REDIS_PREFIX ?? f.redisPrefix ?? 'toolgate:',
    telemetry: {
      serviceName: env.OTEL_SERVICE_NAME ?? f.telemetry?.serviceName ?? 'toolgate',
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? f.telemetry?.otlpEndpoint,
    },
    stateDir,
    identity: identityOptions(f.identity),
    console: consoleConfig(env, f.console),
  };
}

function placement(value: unknown): CheckPlacement | undefined {
  if (value === undefined) return undefined;
  if (!CHECK_PLACEMENTS.includes(value as CheckPlacement)) {
    throw new ConfigError('signature_check_invalid', `TOOLGATE_SIGNATURE_CHECK (or signatureCheck) must be "inline" (check request signatures on the event loop), "evaluator" (in the evaluator thread that decides the call) or "pool" (on libuv's thread pool), not ${JSON.stringify(value)}.`);
  }
  return value as CheckPlacement;
}

function consoleConfig(env: Env, f: { enabled?: boolean; jaegerUrl?: string; auditFiles?: string[] } | undefined): ServerConfig['console'] {
  const flag = env.TOOLGATE_CONSOLE;
  if (flag !== undefined && flag !== 'true' && flag !== 'false') throw new ConfigError('console_flag_invalid', 'TOOLGATE_CONSOLE must be "true" (serve the console at /console) or "false".');
  if (f?.enabled !== undefined && typeof f.enabled !== 'boolean') throw new ConfigError('console_flag_invalid', 'The config file\'s console.enabled must be true or false.');
  return { enabled: flag !== undefined ? flag === 'true' : (f?.enabled ?? false), jaegerUrl: env.TOOLGATE_CONSOLE_JAEGER_URL ?? f?.jaegerUrl, auditFiles: list(env.TOOLGATE_CONSOLE_AUDIT_FILES) ?? f?.auditFiles };
}

function identityOptions(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('config_identity_invalid', 'The config file\'s "identity" must be an object of createVerifier options, e.g. {"production": true, "labels": ["sig1"]}.');
  }
  for (const k of ['jwksFiles', 'jwks', 'nonceStore', 'now']) {
    if (k in value) throw new ConfigError('config_identity_invalid', `identity.${k} cannot be set in the config file: use agentKeys / TOOLGATE_AGENT_KEYS and TOOLGATE_REDIS_URL.`);
  }
  return value as Record<string, unknown>;
}

/** The MCP requestState key from a file holding it in base64 (32 bytes), so several instances can share it. */
function stateKey(file: string | undefined): Buffer | undefined {
  if (file === undefined || file === '') return undefined;
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch (error) {
    throw new ConfigError('config_mcp_state_key', `TOOLGATE_MCP_STATE_KEY_FILE ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); write 32 random bytes in base64 there, e.g. openssl rand -base64 32.`);
  }
  if (key.length !== 32) throw new ConfigError('config_mcp_state_key', `TOOLGATE_MCP_STATE_KEY_FILE ${file} holds ${key.length} bytes; it must hold 32 random bytes in base64 (openssl rand -base64 32).`);
  return key;
}
