/**
 * Which agent opened which MCP session. A session id is not a credential (MCP says so): every request is signed,
 * and a session may only be used by the agent that opened it. The gateway learns the owner from the service's
 * `Mcp-Session-Id` answer to a signed request and refuses the id from anyone else — or from anyone at all when it
 * never saw the session opened (fail closed: the client starts a new session).
 */
export interface McpSessionStore {
  /** The agent that opened `sessionId`, or null when the gateway does not know the session. */
  owner(sessionId: string, nowMs: number): string | null;
  /** Records the owner of a session the service just opened; an existing owner is never replaced. */
  bind(sessionId: string, agentId: string, nowMs: number): boolean;
  /** Forgets a session the service ended. */
  unbind(sessionId: string): void;
}

export interface MemorySessionOptions {
  /** Sessions kept at most; the least recently used goes first. Default 100,000. */
  readonly maxSessions?: number;
  /** A session unused this long is forgotten. Default 24 h. */
  readonly idleTtlMs?: number;
}

/** In-process session owners, bounded in count and idle time. */
export class MemoryMcpSessionStore implements McpSessionStore {
  readonly #max: number;
  readonly #ttl: number;
  // Map order is recency order: a use moves the entry to the end, eviction takes from the front.
  readonly #owners = new Map<string, { agent: string; seen: number }>();

  constructor(options: MemorySessionOptions = {}) {
    this.#max = options.maxSessions ?? 100_000;
    this.#ttl = options.idleTtlMs ?? 24 * 3600_000;
  }

  owner(sessionId: string, nowMs: number): string | null {
    const entry = this.#owners.get(sessionId);
    if (!entry) return null;
    this.#owners.delete(sessionId);
    if (nowMs - entry.seen > this.#ttl) return null;
    this.#owners.set(sessionId, { agent: entry.agent, seen: nowMs });
    return entry.agent;
  }

  bind(sessionId: string, agentId: string, nowMs: number): boolean {
    const current = this.owner(sessionId, nowMs);
    if (current !== null) return current === agentId;
    this.#owners.set(sessionId, { agent: agentId, seen: nowMs });
    while (this.#owners.size > this.#max) {
      const oldest = this.#owners.keys().next().value as string;
      this.#owners.delete(oldest);
    }
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
