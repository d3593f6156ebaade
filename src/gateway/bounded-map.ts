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
