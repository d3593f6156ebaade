export * from './types.js';
export * from './body.js';
export * from './parse.js';
