export * from './types.js';
export * from './body.js';
export * from './parse.js';
export * from './json-limits.js';
export * from './json-body.js';
export * from './media-type.js';
