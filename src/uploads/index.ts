export * from './types.js';
export * from './memory-store.js';
export * from './router.js';
export * from './redis-store.js';
export * from './resolve.js';
export { isUploadId, newUploadId } from './record.js';
