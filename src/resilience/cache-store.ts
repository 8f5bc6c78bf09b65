/** A value found in a cache store (wrapped, so that a cached `null` is not a miss). */
export interface CacheHit {
  readonly value: unknown;
}

/** Where the `cache` policy keeps values; entries expire `ttlMs` after they were set. */
export interface CacheStore {
  /** The entry for `key`, or undefined when missing or expired. */
  get(key: string): Promise<CacheHit | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}
