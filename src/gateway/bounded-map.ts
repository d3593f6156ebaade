/**
 * A Map holding at most `max` entries, in recency order: setting an entry (again) makes it the newest, and beyond
 * `max` the oldest go. For the gateway's in-process state that callers can grow (sessions, tool definitions,
 * elicited calls).
 */
export class BoundedMap<V> {
  readonly #map = new Map<string, V>();

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`a bounded map holds at least 1 entry, got ${String(max)}`);
  }

  get(key: string): V | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: V): void {
    this.#map.delete(key); // re-inserted last: Map order is the eviction order
    this.#map.set(key, value);
    while (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as string);
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}

/**
 * A BoundedMap whose entries each belong to an owner (an agent), who may hold at most `maxPerOwner` of them: past
 * that, the owner's own least recently used entry goes, never another owner's. So one agent flooding the map (a
 * session opened per request) pushes out only its own entries, while the map as a whole stays within `max` (past
 * it, the least recently used of all goes, as in BoundedMap, which only many owners together can reach).
 */
export class OwnedBoundedMap<V> {
  readonly #entries = new Map<string, { readonly owner: string; readonly value: V }>();
  /** Each owner's keys in recency order, oldest first; an owner with none has no set. */
  readonly #byOwner = new Map<string, Set<string>>();

  constructor(
    readonly max: number,
    readonly maxPerOwner: number,
  ) {
    for (const [name, n] of [['max', max], ['maxPerOwner', maxPerOwner]] as const) {
      if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`a bounded map's ${name} is at least 1, got ${String(n)}`);
    }
  }

  get(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  ownerOf(key: string): string | undefined {
    return this.#entries.get(key)?.owner;
  }

  /** Sets the entry and makes it the newest, of all and of its owner's; then trims the owner's, then the whole map. */
  set(key: string, owner: string, value: V): void {
    this.delete(key);
    this.#entries.set(key, { owner, value });
    let keys = this.#byOwner.get(owner);
    if (!keys) this.#byOwner.set(owner, (keys = new Set()));
    keys.add(key);
    while (keys.size > this.maxPerOwner) this.delete(keys.values().next().value as string);
    while (this.#entries.size > this.max) this.delete(this.#entries.keys().next().value as string);
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const keys = this.#byOwner.get(entry.owner)!;
    keys.delete(key);
    if (keys.size === 0) this.#byOwner.delete(entry.owner);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many entries `owner` holds. */
  sizeOf(owner: string): number {
    return this.#byOwner.get(owner)?.size ?? 0;
  }
}
