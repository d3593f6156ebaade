export type { ApprovalListQuery, ApprovalRecord, ApprovalStatus, ApprovalStore, DecideRefusal, DecideResult, DecideVerdict } from './types.js';
export { APPROVAL_HEADER, APPROVAL_STATUSES } from './types.js';
export { approvalBinding, argsSha256 } from './binding.js';
export { DEFAULT_APPROVAL_TTL_S, approvalFacts, effectiveStatus, isApprovalId, newApprovalId, newApprovalRecord, withEffectiveStatus, type NewApproval } from './record.js';
export { lookupApproval } from './lookup.js';
export { MemoryApprovalStore, type MemoryApprovalStoreOptions } from './memory-store.js';
export { RedisApprovalStore, type RedisApprovalStoreOptions } from './redis-store.js';
export { createApprovalStore, type ApprovalStoreOptions } from './factory.js';
export { approvalsRouter, type ApprovalsRouterOptions } from './router.js';
