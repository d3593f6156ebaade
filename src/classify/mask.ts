import { detect, type Detector, DETECTORS } from './detectors.js';
import { escapePointer } from './pointer.js';

export interface Erasure {
  /** JSON Pointer of the value that was changed. */
  readonly pointer: string;
  /** `removed` when the whole value was erased (policy pointer), else the detector types masked inside it. */
  readonly types: readonly string[];
}

function maskString(s: string, classes: ReadonlySet<string>, detectors: readonly Detector[]): { text: string; types: string[] } {
  const matches = detect(s, detectors).filter((m) => classes.has(m.class));
  if (matches.length === 0) return { text: s, types: [] };
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += `${s.slice(at, m.start)}[REDACTED:${m.type}]`;
    at = m.end;
  }
  return { text: out + s.slice(at), types: [...new Set(matches.map((m) => m.type))] };
}

/**
 * Returns a copy of `value` with whole values at `pointers` erased (like OPA's decision-log mask) and detector
 * matches of the given classes replaced by `[REDACTED:type]`, plus the list of what was changed.
 * `value` itself is never mutated.
 */
export function mask(
  value: unknown,
  base: string,
  options: {
    pointers?: readonly string[];
    classes?: ReadonlySet<string>;
    detectors?: readonly Detector[];
    /**
     * Run the detectors only on strings at these pointers (where a scan already found something); the rest is
     * copied untouched. Saves re-scanning a whole document whose findings are known. Default: every string.
     */
    only?: ReadonlySet<string>;
  } = {},
): { value: unknown; erased: Erasure[] } {
  const pointers = new Set(options.pointers ?? []);
  const only = options.only;
  const classes = options.classes ?? new Set(['secret']);
  const detectors = options.detectors ?? DETECTORS;
  const erased: Erasure[] = [];
  // Nothing to erase and no string to look at (the audit path when the scan found no credential): a plain copy,
  // without building a JSON Pointer for every node. 12 µs → 3 µs for a decision's input (Node 26, bench input).
  if (pointers.size === 0 && only?.size === 0) return { value: copy(value, 0), erased };
  const visit = (v: unknown, pointer: string, depth: number): unknown => {
    if (pointers.has(pointer)) {
      erased.push({ pointer, types: ['removed'] });
      return '[REDACTED]';
    }
    if (depth > 64) return v;
    if (typeof v === 'string') {
      if (only && !only.has(pointer)) return v;
      const { text, types } = maskString(v, classes, detectors);
      if (types.length) erased.push({ pointer, types });
      return text;
    }
    if (Array.isArray(v)) return v.map((item, i) => visit(item, `${pointer}/${i}`, depth + 1));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = visit(item, `${pointer}/${escapePointer(k)}`, depth + 1);
      return out;
    }
    return v;
  };
  return { value: visit(value, base, 0), erased };
}

/** What `mask` returns when nothing can change: the same copy (arrays keep their holes), minus the pointers. */
function copy(v: unknown, depth: number): unknown {
  if (depth > 64 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((item) => copy(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) out[k] = copy(item, depth + 1);
  return out;
}
