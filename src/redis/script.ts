import { createHash } from 'node:crypto';
import type { SendCommand } from './types.js';
import { errorMessage } from './messages.js';

/** A Lua script run by EVALSHA; its SHA-1 is computed once here, so no SCRIPT LOAD round trip is needed. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs `lua` atomically in Redis: EVALSHA, and on NOSCRIPT (first use, a Redis restart, SCRIPT FLUSH) EVAL, which
 * also caches it for the next call. Rejects with Redis's own error otherwise: the store maps it to its reason code.
 */
export async function evalScript(send: SendCommand, lua: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await send('EVALSHA', lua.sha, ...tail);
  } catch (error) {
    if (!errorMessage(error).startsWith('NOSCRIPT')) throw error;
    return send('EVAL', lua.source, ...tail);
  }
}
