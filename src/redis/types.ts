/**
 * Sends one Redis command and resolves its reply (rejects on a Redis error), so a store fits any client —
 * rate-limit-redis's pattern. For ioredis: `(...a) => client.call(a[0], ...a.slice(1))`.
 */
export type SendCommand = (...args: string[]) => Promise<unknown>;

/**
 * A client a store owns: how to send a command, and how to let go of the connection. Shaped like the Redis stores'
 * options, so a store's connect() is `new Store({ ...options, ...connection })`.
 */
export interface RedisConnection {
  readonly sendCommand: SendCommand;
  /** Quits the client (QUIT, or a hard disconnect if Redis no longer answers). */
  readonly onClose: () => Promise<void>;
}
