import { BadRequestError } from '../errors.js';
import type { DecisionFilter } from './types.js';

const TEXT = ['agent', 'tool', 'outcome', 'reason', 'type'] as const;

/** The feed's filters from a query string: exact agent, tool, outcome, reason code, event type; since/until times. */
export function parseFilter(query: Readonly<Record<string, unknown>>): DecisionFilter {
  const out: { -readonly [K in keyof DecisionFilter]: DecisionFilter[K] } = {};
  for (const name of TEXT) {
    const value = query[name];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || value.length > 256) throw new BadRequestError('bad_filter', `${name} must be one text value of at most 256 characters.`);
    out[name] = value;
  }
  for (const [name, key] of [['since', 'sinceMs'], ['until', 'untilMs']] as const) {
    const value = query[name];
    if (value === undefined || value === '') continue;
    const ms = typeof value === 'string' ? (/^\d+$/.test(value) ? Number(value) : Date.parse(value)) : NaN;
    if (!Number.isFinite(ms)) throw new BadRequestError('bad_filter', `${name} must be a time: RFC 3339 (2026-11-27T10:00:00Z) or milliseconds since the epoch.`);
    out[key] = ms;
  }
  return out;
}

export function parseLimit(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw new BadRequestError('bad_limit', `limit must be a whole number from 1 to ${max}.`);
  return n;
}
