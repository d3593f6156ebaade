export * from './types.js';
export * from './bundle.js';
export * from './decision.js';
export * from './engine.js';
export * from './active.js';
export * from './poller.js';
export * from './source.js';
export * from './signature.js';
