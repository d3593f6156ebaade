import type { Finding } from '../policy/types.js';
import { detect, type Detector, DETECTORS } from './detectors.js';
import { escapePointer } from './pointer.js';

/** Strings longer than this are scanned only in their first part: bounds the cost of hostile input. */
const MAX_SCAN = 256 * 1024;

/** Walks a JSON value and reports every detector finding with the JSON Pointer of the string it sits in. */
export function scan(value: unknown, base: string, detectors: readonly Detector[] = DETECTORS): { secrets: Finding[]; pii: Finding[] } {
  const secrets: Finding[] = [];
  const pii: Finding[] = [];
  const seen = new Set<string>();
  const visit = (v: unknown, pointer: string, depth: number): void => {
    if (depth > 64) return;
    if (typeof v === 'string') {
      for (const m of detect(v.length > MAX_SCAN ? v.slice(0, MAX_SCAN) : v, detectors)) {
        const id = `${m.class}|${m.type}|${pointer}`;
        if (seen.has(id)) continue;
        seen.add(id);
        (m.class === 'secret' ? secrets : pii).push({ type: m.type, pointer });
      }
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, `${pointer}/${i}`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) visit(item, `${pointer}/${escapePointer(k)}`, depth + 1);
    }
  };
  visit(value, base, 0);
  return { secrets, pii };
}
