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

/** Calls `fn` with the value at `pointer` and replaces it with the result; a missing path is left alone. */
export function updateAt(root: unknown, pointer: string, fn: (value: unknown) => unknown): boolean {
  const parts = parsePointer(pointer);
  if (!parts || parts.length === 0) return false;
  let node: unknown = root;
  for (const part of parts.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[part];
  }
  const last = parts[parts.length - 1]!;
  if (node === null || typeof node !== 'object' || !Object.hasOwn(node, last)) return false;
  (node as Record<string, unknown>)[last] = fn((node as Record<string, unknown>)[last]);
  return true;
}
