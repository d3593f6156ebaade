export * from './clock.js';
export * from './build.js';
