import type { Finding } from '../policy/types.js';
import { detect, type Detector, DETECTORS } from './detectors.js';
import { escapePointer } from './pointer.js';

/** Deeper than any JSON the gateway accepts: reaching it means a value that contains itself. */
const CYCLE_DEPTH = 1_000_000;

/**
 * Walks a JSON value and reports every detector finding with the JSON Pointer of the string it sits in, once per
 * class, type and pointer. Member names are scanned like strings: a finding in a name is reported at the object
 * that holds the member, with `in: "name"` (once per class and type per object). A name has no pointer of its own,
 * and the object's pointer keeps every consumer right: redacting or masking there reaches the name, and a
 * pointer never repeats the credential it reports. Every string and name is scanned whole, however long and
 * however deep it sits: a part left unscanned would be a place to hide a credential from the policy and from
 * audit masking. The cost is bounded by the detectors (linear, at most MAX_MATCHES_PER_DETECTOR matches each per
 * string) and by the body limit. A loop with its own stack, not recursion, so nesting depth cannot overflow the
 * call stack; the order of the findings is the document's (depth first, an object's names before its members).
 */
export function scan(value: unknown, base: string, detectors: readonly Detector[] = DETECTORS): { secrets: Finding[]; pii: Finding[] } {
  const secrets: Finding[] = [];
  const pii: Finding[] = [];
  const report = (texts: readonly string[], pointer: string, inName: boolean) => {
    const types = new Set<string>();
    for (const text of texts) {
      for (const m of detect(text, detectors)) {
        const id = `${m.class}|${m.type}`;
        if (types.has(id)) continue;
        types.add(id);
        (m.class === 'secret' ? secrets : pii).push(inName ? { type: m.type, pointer, in: 'name' } : { type: m.type, pointer });
      }
    }
  };
  const stack: [unknown, string, number][] = [[value, base, 0]];
  while (stack.length > 0) {
    const [v, pointer, depth] = stack.pop()!;
    // JSON cannot nest this deep in a body the gateway accepts; an object that contains itself would loop forever.
    if (depth > CYCLE_DEPTH) throw new TypeError('scan: the value is nested over a million levels deep or contains itself.');
    if (typeof v === 'string') {
      report([v], pointer, false);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${pointer}/${i}`, depth + 1]);
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      report(keys, pointer, true);
      for (let i = keys.length - 1; i >= 0; i--) stack.push([(v as Record<string, unknown>)[keys[i]!], `${pointer}/${escapePointer(keys[i]!)}`, depth + 1]);
    }
  }
  return { secrets, pii };
}
