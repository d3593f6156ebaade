/**
 * Every failure a user can hit carries a stable reason code and a sentence that says what to do.
 * Request-time failures are turned into the HTTP contract's JSON in one place (middleware/respond.ts).
 */
export type ErrorKind = 'unauthenticated' | 'bad_request' | 'unavailable' | 'config';

export class ToolgateError extends Error {
  readonly kind: ErrorKind;
  readonly reason: string;
  override readonly name: string = 'ToolgateError';

  constructor(kind: ErrorKind, reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.reason = reason;
  }
}

/** Thrown at start-up for bad options; the message names the fix. */
export class ConfigError extends ToolgateError {
  override readonly name = 'ConfigError';
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('config', reason, message, options);
  }
}

/**
 * Malformed input from the caller: 400, or 413 for reason `body_too_large`. `details` are extra members of the
 * error body (e.g. the protocol versions the gateway speaks).
 */
export class BadRequestError extends ToolgateError {
  override readonly name = 'BadRequestError';
  readonly details: Readonly<Record<string, unknown>> | undefined;
  constructor(reason: string, message: string, details?: Readonly<Record<string, unknown>>) {
    super('bad_request', reason, message);
    this.details = details;
  }
}

/** A dependency we must trust (policy, audit path, key directory) cannot be used: fail closed with 503. */
export class UnavailableError extends ToolgateError {
  override readonly name = 'UnavailableError';
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super('unavailable', reason, message, options);
  }
}
