/**
 * Per-key limiter state with a bound: a Map keeps insertion order, so re-inserting on use
 * keeps the most recently used key last and the first key is the one to evict (O(1)).
 */
export class RateLimitKeyMap<V> {
  readonly #map = new Map<string, V>();
  readonly #maxKeys: number;

  constructor(maxKeys: number) {
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#map.size;
  }

  has(key: string): boolean {
    return this.#map.has(key);
  }

  /** The state for `key`, now marked as the most recently used; undefined when unknown. */
  get(key: string): V | undefined {
    const map = this.#map;
    const state = map.get(key);
    if (state !== undefined) {
      map.delete(key);
      map.set(key, state);
    }
    return state;
  }

  /** Adds state for a new key, evicting the least recently used key when full. */
  add(key: string, state: V): void {
    const map = this.#map;
    if (map.size >= this.#maxKeys) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, state);
  }
}
