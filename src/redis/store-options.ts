import type { SendCommand } from './types.js';

/** What every Redis store's constructor takes besides its own settings (rate-limit-redis's pattern). */
export interface RedisStoreOptions {
  /** Sends one Redis command, e.g. `(...a) => client.call(a[0], ...a.slice(1))`: bring any client. */
  readonly sendCommand: SendCommand;
  /** Called by close(), e.g. to quit a client the store owns (connect() passes its own). */
  readonly onClose?: () => Promise<void>;
}

/** The store's sendCommand, or a TypeError naming the store and how to make one. */
export function requireSendCommand(options: Partial<RedisStoreOptions> | undefined, store: string): SendCommand {
  if (typeof options?.sendCommand !== 'function') throw new TypeError(`${store} needs sendCommand(...args), e.g. (...a) => client.call(a[0], ...a.slice(1))`);
  return options.sendCommand;
}
