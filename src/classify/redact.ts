import { mask, type Erasure } from './mask.js';
import { updateAt } from './pointer.js';

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
  const copy = structuredClone(doc);
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
