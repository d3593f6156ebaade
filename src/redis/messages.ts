/** Helpers for the error messages the Redis stores write (they end up in logs and 503 bodies). */

/** Never put a Redis password into an error message (they end up in logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
