export * from './attributes.js';
export * from './setup.js';
export * from './decision-span.js';
export * from './metrics.js';
