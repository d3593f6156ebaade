export { consoleRouter, type ConsoleRouter } from './router.js';
export { CONSOLE_CSP, DEFAULT_ASSETS_DIR } from './assets.js';
export type { ConsoleAuditSource, ConsoleOptions, DecisionFilter, DecisionSummary } from './types.js';
