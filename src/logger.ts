/**
 * Injected logger: the library never writes to the console itself. Any logger with `warn` and `error` fits
 * (pino, console). A leaf module, so every stage can take one without importing the gateway's options.
 */
export interface Logger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
