/**
 * Sets an own, enumerable data member, `__proto__` included. `out[key] = value` would call Object.prototype's
 * `__proto__` setter instead, and the member the agent sent (which JSON.parse keeps as data) would vanish from the
 * copy while the tool still receives it.
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** What a visitor returns to have a node copied as is (a container member by member). */
export const DESCEND: unique symbol = Symbol('descend');

/** A copy that looks at each node on the way, carrying a state from parent to child (e.g. its JSON Pointer). */
export interface Walk<S> {
  /** The root's state. */
  readonly root: S;
  /**
   * A member's or element's state, from its parent's, its key in the source (an array index as a string) and its
   * name in the copy (the key unless `rename` changed it).
   */
  child(parent: S, key: string, name: string): S;
  /** The node's replacement, or DESCEND to copy it. */
  visit(value: unknown, state: S): unknown;
  /**
   * The names an object's members get in the copy, one per key and in the same order (distinct, so no member
   * overwrites another), or undefined to keep the keys. Called once per object copied, before its members.
   */
  rename?(keys: readonly string[], state: S): readonly string[] | undefined;
}

interface Frame<S> {
  readonly src: object;
  readonly out: unknown[] | Record<string, unknown>;
  /** Own enumerable keys of an object; null for an array. */
  readonly keys: readonly string[] | null;
  /** The members' names in the copy (Walk.rename), or `keys`. */
  readonly names: readonly string[] | null;
  i: number;
  readonly state: S | undefined;
}

/**
 * Copies a JSON-like value with an explicit stack, so no nesting depth can overflow the call stack. Arrays keep
 * their holes, objects are copied by their own enumerable keys (`__proto__`, `constructor`, `prototype` as plain
 * members). With `walk`, every node is offered to `walk.visit` first. Throws TypeError on a cyclic value, as
 * JSON.stringify does.
 */
export function copyJson<S>(value: unknown, walk?: Walk<S>): unknown {
  const stack: Frame<S>[] = [];
  const enter = (v: unknown, state: S | undefined): unknown => {
    const replaced = walk ? walk.visit(v, state as S) : DESCEND;
    if (replaced !== DESCEND) return replaced;
    if (v === null || typeof v !== 'object') return v;
    const array = Array.isArray(v);
    const out = array ? new Array<unknown>(v.length) : {};
    const keys = array ? null : Object.keys(v);
    const names = keys && walk?.rename ? (walk.rename(keys, state as S) ?? keys) : keys;
    stack.push({ src: v, out, keys, names, i: 0, state });
    checkAcyclic(stack);
    return out;
  };
  const root = enter(value, walk?.root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.keys === null) {
      const src = frame.src as unknown[];
      while (frame.i < src.length && !(frame.i in src)) frame.i++;
      if (frame.i >= src.length) {
        stack.pop();
        continue;
      }
      const i = frame.i++;
      const key = String(i);
      (frame.out as unknown[])[i] = enter(src[i], walk ? walk.child(frame.state as S, key, key) : undefined);
    } else {
      if (frame.i >= frame.keys.length) {
        stack.pop();
        continue;
      }
      const i = frame.i++;
      const key = frame.keys[i]!;
      const name = frame.names![i]!;
      const member = (frame.src as Record<string, unknown>)[key];
      setMember(frame.out as Record<string, unknown>, name, enter(member, walk ? walk.child(frame.state as S, key, name) : undefined));
    }
  }
  return root;
}

/**
 * A cyclic value would make an iterative walk loop forever, growing its stack until the process runs out of
 * memory. Every 4,096 levels the stack is checked for an object that is its own ancestor: amortised O(1) per level,
 * and ordinary values (64 levels at most past extraction) never pay it.
 */
export function checkAcyclic(stack: readonly { readonly src: object }[]): void {
  if ((stack.length & 4095) !== 0) return;
  if (new Set(stack.map((f) => f.src)).size < stack.length) throw new TypeError('Cannot walk a cyclic value: an object contains itself.');
}
