import { MemoryApprovalStore } from './memory-store.js';
import { RedisApprovalStore } from './redis-store.js';
import type { ApprovalStore } from './types.js';

export interface ApprovalStoreOptions {
  /** Redis URL (TOOLGATE_REDIS_URL). Unset: the in-memory store, for one gateway process. */
  readonly redisUrl?: string;
  /** Redis key prefix. Default "toolgate:". */
  readonly prefix?: string;
  /** How long records outlive `expires_at`. Default 900_000 ms. */
  readonly retainMs?: number;
}

/**
 * The approval store the deployment asks for: Redis when a URL is given (shared by every gateway instance),
 * memory otherwise. Throws UnavailableError('approvals_unavailable') when Redis cannot be reached at start-up.
 */
export async function createApprovalStore(options: Readonly<ApprovalStoreOptions> = {}): Promise<ApprovalStore> {
  if (options.redisUrl) {
    return RedisApprovalStore.connect(options.redisUrl, {
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      ...(options.retainMs === undefined ? {} : { retainMs: options.retainMs }),
    });
  }
  return new MemoryApprovalStore(options.retainMs === undefined ? {} : { retainMs: options.retainMs });
}
