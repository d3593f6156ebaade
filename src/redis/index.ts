export type { RedisConnection, SendCommand } from './types.js';
export { connectRedis, type ConnectRedisOptions } from './connect.js';
export { evalScript, script, type LuaScript } from './script.js';
export { errorMessage, redactUrl } from './messages.js';
export { requireSendCommand, type RedisStoreOptions } from './store-options.js';
export { isRedisUrl, parseRedisUrl, type RedisTarget } from './url.js';
