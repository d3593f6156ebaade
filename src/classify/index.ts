export * from './detectors.js';
export * from './scan.js';
export * from './mask.js';
export * from './pointer.js';
export * from './redact.js';
