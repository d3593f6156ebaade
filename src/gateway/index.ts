export * from './options.js';
export * from './respond.js';
export * from './middleware.js';
