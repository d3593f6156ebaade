import { ConfigError } from '../errors.js';

/**
 * Shape limits on a JSON request body, checked at extraction before anything walks the value: the policy engine,
 * the detectors, the audit and the tool all get a value no deeper and no larger than this.
 */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays in the body (`{}` is 1, `{"a":[]}` is 2). Default 64. */
  readonly maxDepth: number;
  /** Most values in the body: every object, array, string, number, boolean and null, the root included. Default 10,000. */
  readonly maxElements: number;
}

/**
 * 64 levels is far beyond any tool's arguments (an MCP call spends 2 on the JSON-RPC envelope) and keeps every
 * walker shallow. 10,000 values bounds the policy's work per call: 1 MiB of `[0,0,…]` would otherwise be 512 Ki
 * values for the WASM evaluator, the detectors and the audit to walk.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 64, maxElements: 10_000 });

/** Validates `json` options once at start-up (unknown keys and bad values are refused with the fix). */
export function resolveJsonLimits(given: Readonly<Partial<JsonLimits>> | undefined): JsonLimits {
  if (given === undefined) return DEFAULT_JSON_LIMITS;
  if (given === null || typeof given !== 'object') throw new ConfigError('json_limits_invalid', 'json must be an object such as { maxDepth: 64, maxElements: 10000 }.');
  for (const key of Object.keys(given)) {
    if (key !== 'maxDepth' && key !== 'maxElements') throw new ConfigError('option_unknown', `Unknown toolgate option json.${key}. Known options: maxDepth, maxElements.`);
  }
  const limits = { ...DEFAULT_JSON_LIMITS, ...given };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError('json_limits_invalid', `json.${key} must be a positive integer (default ${DEFAULT_JSON_LIMITS[key as keyof JsonLimits]}), not ${JSON.stringify(value)}.`);
  }
  return Object.freeze(limits);
}
