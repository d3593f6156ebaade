import { ConfigError } from '../errors.js';

/** Where the shared state lives and how durable a write must be before it counts, parsed once from the URL. */
export type RedisTarget = SingleRedis | SentinelRedis;

interface Durability {
  /**
   * Replicas that must acknowledge a write (Redis `WAIT`) before the store reports it done; a write fewer replicas
   * acknowledge within waitTimeoutMs fails closed (503). `?waitReplicas=` in the URL; default 1 under Sentinel,
   * 0 (no WAIT) for a single Redis.
   */
  readonly waitReplicas: number;
  /** How long `WAIT` blocks at most. `?waitTimeoutMs=`; default 500. */
  readonly waitTimeoutMs: number;
}

export interface SingleRedis extends Durability {
  readonly kind: 'single';
  /** The URL for ioredis, without toolgate's own query parameters. */
  readonly url: string;
}

export interface SentinelRedis extends Durability {
  readonly kind: 'sentinel';
  readonly sentinels: readonly { readonly host: string; readonly port: number }[];
  /** The Sentinel master group name (`sentinel monitor <name> ...`). */
  readonly name: string;
  /** For the data nodes (primary and replicas); the sentinels are asked without credentials. */
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number;
}

const OWN_PARAMS = ['waitReplicas', 'waitTimeoutMs'] as const;
const SENTINEL_SCHEME = 'redis+sentinel://';
const FORMS = 'redis://host:6379, rediss://host:6380 (TLS) or redis+sentinel://host1:26379,host2:26379,host3:26379/mymaster';

/** True for every URL form parseRedisUrl accepts (validation of options before connecting). */
export function isRedisUrl(url: string): boolean {
  return /^(rediss?|redis\+sentinel):\/\//.test(url);
}

/**
 * Parses TOOLGATE_REDIS_URL: `redis://` / `rediss://` (one Redis, handed to ioredis as is) or
 * `redis+sentinel://[user:password@]host:port,host:port,.../<master name>[/<db>]` (Sentinel: the gateway asks the
 * sentinels where the primary is and follows failovers). Both take `?waitReplicas=N&waitTimeoutMs=MS`.
 */
export function parseRedisUrl(url: string): RedisTarget {
  if (!isRedisUrl(url)) throw invalid(`TOOLGATE_REDIS_URL must look like ${FORMS}`);
  const q = url.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  const base = q >= 0 ? url.slice(0, q) : url;
  const sentinel = base.startsWith(SENTINEL_SCHEME);
  const waitReplicas = intParam(params, 'waitReplicas', sentinel ? 1 : 0, 0);
  const waitTimeoutMs = intParam(params, 'waitTimeoutMs', 500, 1);
  for (const p of OWN_PARAMS) params.delete(p);
  if (!sentinel) {
    const rest = params.toString();
    return { kind: 'single', url: rest ? `${base}?${rest}` : base, waitReplicas, waitTimeoutMs };
  }
  if ([...params.keys()].length > 0) throw invalid(`unknown parameter(s) ${[...params.keys()].join(', ')} in the redis+sentinel URL: only waitReplicas and waitTimeoutMs are known`);
  const afterScheme = base.slice(SENTINEL_SCHEME.length);
  const at = afterScheme.lastIndexOf('@');
  const auth = at >= 0 ? afterScheme.slice(0, at) : '';
  const [hostList = '', name = '', db = '0', ...extra] = afterScheme.slice(at + 1).split('/');
  if (name === '' || extra.length > 0 || !/^\d+$/.test(db)) throw invalid(`a redis+sentinel URL names its master group after the hosts, then optionally a db number: ${SENTINEL_SCHEME}host1:26379,host2:26379/mymaster[/0]`);
  const sentinels = hostList.split(',').map((hp) => {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hp);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) throw invalid(`"${hp}" in the redis+sentinel URL is not host:port (each sentinel with its port, comma-separated)`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
  const colon = auth.indexOf(':');
  const username = colon >= 0 ? auth.slice(0, colon) : auth;
  const password = colon >= 0 ? auth.slice(colon + 1) : undefined;
  return {
    kind: 'sentinel',
    sentinels,
    name: decodeURIComponent(name),
    username: username === '' ? undefined : decodeURIComponent(username),
    password: password === undefined ? undefined : decodeURIComponent(password),
    db: Number(db),
    waitReplicas,
    waitTimeoutMs,
  };
}

function intParam(params: URLSearchParams, key: string, fallback: number, min: number): number {
  const raw = params.get(key);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw invalid(`${key}=${raw} in TOOLGATE_REDIS_URL must be an integer >= ${min}`);
  return n;
}

function invalid(what: string): ConfigError {
  return new ConfigError('redis_url_invalid', `${what}; fix TOOLGATE_REDIS_URL (README, Configuration), or unset it to keep state in memory (one gateway process only).`);
}
