/** RFC 6901 JSON Pointer helpers over plain JSON values. */

/** RFC 6901 §3 escaping of one reference token; most keys need neither replace, so test before replacing. */
export function escapePointer(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

export function parsePointer(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;

/**
 * Whether `token` names a member of `node` that the JSON document itself holds: an own member of an object
 * (so `__proto__`, `constructor` or `prototype` is found only when the document has it, and never leads into
 * Object.prototype), or an existing index of an array (RFC 6901 §4: digits without leading zeros; not `length`).
 */
function holds(node: unknown, token: string): node is Record<string, unknown> {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return ARRAY_INDEX.test(token) && Number(token) < node.length;
  return Object.hasOwn(node, token);
}

/**
 * Calls `fn` with the value at `pointer` and replaces it with the result; a path the document does not hold is
 * left alone. A loop, not recursion: the pointer's length does not matter.
 */
export function updateAt(root: unknown, pointer: string, fn: (value: unknown) => unknown): boolean {
  const parts = parsePointer(pointer);
  if (!parts || parts.length === 0) return false;
  let node: unknown = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (!holds(node, part)) return false;
    node = node[part];
  }
  const last = parts[parts.length - 1]!;
  if (!holds(node, last)) return false;
  // An own data member (even "__proto__"), so plain assignment replaces it and runs no setter.
  node[last] = fn(node[last]);
  return true;
}
