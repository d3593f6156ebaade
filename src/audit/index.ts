export * from './types.js';
export * from './canonical.js';
export * from './chain.js';
export * from './group-commit.js';
export * from './file-sink.js';
export * from './kafka-sink.js';
export * from './log.js';
export * from './event.js';
