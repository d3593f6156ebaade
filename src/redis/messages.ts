/** Helpers for the error messages the Redis stores write (they end up in logs and 503 bodies). */

/** Never put a Redis password into an error message (they end up in logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // redis+sentinel://user:pw@h1:26379,h2:26379/name is no WHATWG URL (a host list): mask its credentials by form.
    return /^[a-z+]+:\/\//.test(url) ? url.replace(/^([a-z+]+:\/\/[^:@/]*):[^@]*@/, '$1:***@') : '<unparseable URL>';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
