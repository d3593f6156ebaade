import { mask, type Erasure } from './mask.js';
import { updateAt } from './pointer.js';
import { copyJson, DESCEND, type Walk } from './json-walk.js';

const ALL = new Set(['secret', 'pii']);

/**
 * Applies a policy's redaction obligation to a JSON document the tool (or the caller) will see: at each pointer,
 * detected PII and secrets are replaced by `[REDACTED:type]`. Returns the changed copy and what was removed
 * (pointer and detector types, never the values), for the completion event and the span.
 *
 * `pointers` are relative to `doc` (e.g. `/content`); `prefix` is prepended in the report (e.g. `/args`).
 */
export function redactAt(doc: unknown, pointers: readonly string[], prefix = ''): { doc: unknown; removed: Erasure[] } {
  if (pointers.length === 0) return { doc, removed: [] };
  // A copy as JSON sees the document (what the tool or the agent gets): a Date becomes its string through toJSON.
  // Iterative: structuredClone, like V8's JSON.stringify on some object shapes, recurses and throws RangeError on
  // a deep document (and structuredClone throws on a function member, which JSON just drops).
  const copy = copyJson(doc, AS_JSON);
  const removed: Erasure[] = [];
  for (const pointer of pointers) {
    updateAt(copy, pointer, (value) => {
      const out = mask(value, `${prefix}${pointer}`, { classes: ALL });
      removed.push(...out.erased);
      return out.value;
    });
  }
  return { doc: copy, removed };
}

/** Applies toJSON as JSON.stringify would; everything else is copied as is. */
const AS_JSON: Walk<null> = {
  root: null,
  child: () => null,
  visit: (value) => {
    if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON !== 'function') return DESCEND;
    const json = (value as { toJSON: (key: string) => unknown }).toJSON('');
    return json !== null && typeof json === 'object' ? copyJson(json) : json;
  },
};
