export * from './types.js';
export * from './bundle.js';
export * from './decision.js';
export * from './engine.js';
