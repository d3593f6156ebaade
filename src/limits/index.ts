export { createLimitStore, type LimitStoreOptions } from './create.js';
export { MemoryLimitStore, type MemoryLimitStoreOptions } from './memory-store.js';
export { RedisLimitStore, type RedisLimitStoreConnectOptions, type RedisLimitStoreOptions } from './redis-store.js';
export type { LimitObligation, LimitStore, RefusalCause, Reservation, ReserveResult } from './types.js';
