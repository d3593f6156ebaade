import { createHash } from 'node:crypto';
import { UnavailableError } from '../errors.js';
import { connectRedis, evalScript, requireSendCommand, script, type RedisStoreOptions, type SendCommand } from '../redis/index.js';
import { OwnedBoundedMap } from './bounded-map.js';

/**
 * Which agent opened which MCP session. A session id is not a credential (MCP says so): every request is signed,
 * and a session may only be used by the agent that opened it. The gateway learns the owner from the service's
 * `Mcp-Session-Id` answer to a signed request and refuses the id from anyone else — or from anyone at all when it
 * never saw the session opened (fail closed: the client starts a new session).
 */
export interface McpSessionStore {
  /** The agent that opened `sessionId`, or null when the gateway does not know the session. A use keeps it alive. */
  owner(sessionId: string, nowMs: number): string | null | Promise<string | null>;
  /** Records the owner of a session the service just opened; an existing owner is never replaced. */
  bind(sessionId: string, agentId: string, nowMs: number): boolean | Promise<boolean>;
  /** Forgets a session the service ended. */
  unbind(sessionId: string): void | Promise<void>;
  close?(): Promise<void>;
}

export interface MemorySessionOptions {
  /** Sessions kept at most; the least recently used goes first. Default 100,000. */
  readonly maxSessions?: number;
  /**
   * Sessions one agent keeps at most; past it the agent's own least recently used goes, so an agent opening
   * sessions in a loop cannot push out another agent's. Default 10,000.
   */
  readonly maxSessionsPerAgent?: number;
  /** A session unused this long is forgotten. Default 24 h. */
  readonly idleTtlMs?: number;
}

/** In-process session owners, bounded in count (in all and per agent) and idle time. */
export class MemoryMcpSessionStore implements McpSessionStore {
  readonly #ttl: number;
  // Recency order: a use makes the entry the newest; beyond the bounds the least recently used goes (the agent's own
  // first).
  readonly #owners: OwnedBoundedMap<number>;

  constructor(options: MemorySessionOptions = {}) {
    this.#owners = new OwnedBoundedMap(options.maxSessions ?? 100_000, options.maxSessionsPerAgent ?? 10_000);
    this.#ttl = options.idleTtlMs ?? 24 * 3600_000;
  }

  owner(sessionId: string, nowMs: number): string | null {
    const agent = this.#owners.ownerOf(sessionId);
    if (agent === undefined) return null;
    if (nowMs - this.#owners.get(sessionId)! > this.#ttl) {
      this.#owners.delete(sessionId);
      return null;
    }
    this.#owners.set(sessionId, agent, nowMs);
    return agent;
  }

  bind(sessionId: string, agentId: string, nowMs: number): boolean {
    const current = this.owner(sessionId, nowMs);
    if (current !== null) return current === agentId;
    this.#owners.set(sessionId, agentId, nowMs);
    return true;
  }

  unbind(sessionId: string): void {
    this.#owners.delete(sessionId);
  }

  get size(): number {
    return this.#owners.size;
  }
}

export const SESSION_HEADER = 'mcp-session-id';

/** MCP session ids are visible ASCII (0x21-0x7E); we also bound their length. */
export const SESSION_ID = /^[\x21-\x7e]{1,256}$/;

export interface RedisSessionOptions extends RedisStoreOptions {
  /** Key prefix. Default "toolgate:mcp-session:". */
  readonly prefix?: string;
  /** A session unused this long is forgotten. Default 24 h. */
  readonly idleTtlMs?: number;
  /** Sessions one agent keeps at most; past it the agent's oldest-opened one goes. Default 10,000. */
  readonly maxSessionsPerAgent?: number;
}

/**
 * BIND: the first binding of a session wins, and an agent keeps at most ARGV[4] sessions (its oldest-opened go),
 * so one agent opening sessions in a loop grows Redis by its own bound, not without end.
 *
 * KEYS[1] the session's key, KEYS[2] the agent's index (sorted set: member = the session key's hash part, score =
 * when it was bound, in microseconds on Redis' clock; an entry bound longer than the ttl ago leaves the index). ARGV[1] agent, ARGV[2] ttl ms, ARGV[3] member, ARGV[4] most sessions per
 * agent, ARGV[5] the session keys' prefix (an evicted member's key is ARGV[5] .. member; deleted only while this
 * agent still owns it). Returns 1 when the agent owns the session, 0 when another does.
 */
export const BIND = script(`
if redis.replicate_commands then redis.replicate_commands() end
local ttl = tonumber(ARGV[2])
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl * 1000)
redis.call('ZADD', KEYS[2], now, ARGV[3])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do
    local key = ARGV[5] .. oldest[i]
    if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
  end
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`);

/**
 * Session owners shared by several gateway instances: `<prefix><sha256(session id)>` → agent id, expiring after
 * `idleTtlMs` without use (every use resets it). The owner is set with SET NX (in BIND), so the first binding wins
 * on every instance, and each agent's sessions are indexed (`<prefix>agent:<sha256(agent)>`) so it keeps at most
 * `maxSessionsPerAgent`. The id is hashed: a key's size does not depend on what the service issued.
 *
 * Bindings are made just before the service's answer leaves (the response cannot wait for Redis): this instance
 * knows the owner at once; another instance knows it once the write lands, a millisecond or so later. A request
 * that reaches another instance inside that window is refused as `mcp_session_unknown` (fail closed) and the client
 * opens a new session.
 */
export class RedisMcpSessionStore implements McpSessionStore {
  readonly #send: SendCommand;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #maxPerAgent: number;
  readonly #onClose: (() => Promise<void>) | undefined;
  // Bindings whose write may still be in flight, so this instance never refuses the session it just bound.
  readonly #local = new MemoryMcpSessionStore({ maxSessions: 10_000, idleTtlMs: 60_000 });

  constructor(options: Readonly<RedisSessionOptions>) {
    this.#send = requireSendCommand(options, 'RedisMcpSessionStore');
    this.#prefix = options.prefix ?? 'toolgate:mcp-session:';
    this.#ttl = options.idleTtlMs ?? 24 * 3600_000;
    if (!Number.isSafeInteger(this.#ttl) || this.#ttl < 1) throw new TypeError('RedisMcpSessionStore idleTtlMs must be a positive integer of milliseconds');
    this.#maxPerAgent = options.maxSessionsPerAgent ?? 10_000;
    if (!Number.isSafeInteger(this.#maxPerAgent) || this.#maxPerAgent < 1) throw new TypeError('RedisMcpSessionStore maxSessionsPerAgent must be a positive integer');
    this.#onClose = options.onClose;
  }

  /** Connects an ioredis client the store owns; rejects with UnavailableError('mcp_sessions_unavailable'). */
  static async connect(url: string, options: { prefix?: string; idleTtlMs?: number; maxSessionsPerAgent?: number; commandTimeoutMs?: number } = {}): Promise<RedisMcpSessionStore> {
    const connection = await connectRedis(url, { reason: 'mcp_sessions_unavailable', purpose: 'MCP session owners', commandTimeoutMs: options.commandTimeoutMs });
    return new RedisMcpSessionStore({ ...options, ...connection });
  }

  async owner(sessionId: string, nowMs: number): Promise<string | null> {
    const reply = await this.#call('GETEX', this.#key(sessionId), 'PX', String(this.#ttl));
    if (typeof reply === 'string') return reply;
    return this.#local.owner(sessionId, nowMs);
  }

  bind(sessionId: string, agentId: string, nowMs: number): boolean {
    if (!this.#local.bind(sessionId, agentId, nowMs)) return false;
    void this.#bindShared(sessionId, agentId).catch(() => undefined);
    return true;
  }

  /** The shared binding; resolves whether this agent owns the session (false when another instance bound it first). */
  async #bindShared(sessionId: string, agentId: string): Promise<boolean> {
    const member = this.#hash(sessionId);
    let owned: unknown;
    try {
      owned = await evalScript(this.#send, BIND, [`${this.#prefix}${member}`, `${this.#prefix}agent:${this.#hash(agentId)}`], [agentId, String(this.#ttl), member, String(this.#maxPerAgent), this.#prefix]);
    } catch (cause) {
      throw new UnavailableError('mcp_sessions_unavailable', 'MCP session owners could not be written to Redis; the session will be refused. Check that Redis at TOOLGATE_REDIS_URL is up.', { cause });
    }
    if (owned !== 1) {
      this.#local.unbind(sessionId);
      return false;
    }
    return true;
  }

  async unbind(sessionId: string): Promise<void> {
    this.#local.unbind(sessionId);
    await this.#call('DEL', this.#key(sessionId));
  }

  async close(): Promise<void> {
    await this.#onClose?.();
  }

  #key(sessionId: string): string {
    return `${this.#prefix}${this.#hash(sessionId)}`;
  }

  #hash(text: string): string {
    return createHash('sha256').update(text).digest('base64url');
  }

  async #call(...args: string[]): Promise<unknown> {
    try {
      return await this.#send(...args);
    } catch (cause) {
      throw new UnavailableError('mcp_sessions_unavailable', 'MCP session owners could not be read from Redis; nothing was let through. Check that Redis at TOOLGATE_REDIS_URL is up.', { cause });
    }
  }
}
