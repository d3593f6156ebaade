export * from './detectors.js';
export * from './scan.js';
export * from './mask.js';
