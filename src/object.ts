/** A JSON object: not null, not an array (what a parsed body's `params`, `arguments` or `_meta` must be). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
