import { detect, type Detector, DETECTORS } from './detectors.js';
import { copyJson, DESCEND } from './json-walk.js';
import { escapePointer, parsePointer } from './pointer.js';

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
 * `value` itself is never mutated. Every member is kept, `__proto__` included: the audit and the approver see
 * the same members as the policy and the tool.
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
  if (pointers.size === 0 && only?.size === 0) return { value: copyJson(value), erased };
  // Iterative and without a depth cut-off: every string is masked however deep, and no depth overflows the stack.
  // The pointers asked about are matched token by token down a trie, never by comparing pointer strings: each
  // node's pointer stays an unflattened rope (built for the report only), so a 50,000-level value costs O(n), not
  // the O(n²) bytes that ran out of memory.
  const targets = trieOf(base, pointers, only);
  const masked = copyJson<Place>(value, {
    root: { pointer: base, at: targets },
    child: (parent, key) => ({ pointer: `${parent.pointer}/${escapePointer(key)}`, at: parent.at?.children.get(key) }),
    visit: (v, { pointer, at }) => {
      if (at?.erase) {
        erased.push({ pointer, types: ['removed'] });
        return '[REDACTED]';
      }
      if (typeof v !== 'string') return DESCEND;
      if (only && !at?.scan) return v;
      const { text, types } = maskString(v, classes, detectors);
      if (types.length) erased.push({ pointer, types });
      return text;
    },
  });
  return { value: masked, erased };
}

interface Target {
  erase: boolean;
  scan: boolean;
  readonly children: Map<string, Target>;
}

interface Place {
  readonly pointer: string;
  readonly at: Target | undefined;
}

const target = (): Target => ({ erase: false, scan: false, children: new Map() });

/** The pointers under `base` as a trie of unescaped reference tokens; pointers elsewhere can never match. */
function trieOf(base: string, erase: ReadonlySet<string>, scan: ReadonlySet<string> | undefined): Target {
  const root = target();
  const add = (pointer: string, mark: 'erase' | 'scan') => {
    if (pointer !== base && !pointer.startsWith(`${base}/`)) return;
    const tokens = parsePointer(pointer.slice(base.length));
    if (!tokens) return;
    let node = root;
    for (const token of tokens) {
      let next = node.children.get(token);
      if (!next) node.children.set(token, (next = target()));
      node = next;
    }
    node[mark] = true;
  };
  for (const p of erase) add(p, 'erase');
  for (const p of scan ?? []) add(p, 'scan');
  return root;
}
