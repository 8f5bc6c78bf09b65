import { configError } from "../core/errors.js";
import type { CacheHit, CacheStore } from "./cache-store.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";

export interface MemoryCacheStoreOptions {
  /** Most entries kept; setting one more evicts the least recently used. */
  maxEntries: number;
  clock?: Clock;
}

interface Entry extends CacheHit {
  value: unknown;
  expiresAt: number;
}

const MISS: Promise<undefined> = Promise.resolve(undefined);
const DONE: Promise<void> = Promise.resolve();

/**
 * An in-process LRU cache with a TTL per entry. A Map keeps insertion order, so moving an
 * entry to the end on use keeps the least recently used one first: every operation is O(1).
 * Expired entries are dropped when read or when they reach the front.
 */
export class MemoryCacheStore implements CacheStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #clock: Clock;

  constructor(options: MemoryCacheStoreOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw configError(`memoryCacheStore: "maxEntries" must be a whole number >= 1, got ${String(options.maxEntries)}`, { code: "cache.invalid_option" });
    }
    this.#maxEntries = options.maxEntries;
    this.#clock = options.clock ?? systemClock;
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Promise<CacheHit | undefined> {
    const entries = this.#entries;
    const entry = entries.get(key);
    if (entry === undefined) return MISS;
    entries.delete(key);
    if (entry.expiresAt <= this.#clock.now()) return MISS;
    entries.set(key, entry);
    return Promise.resolve(entry);
  }

  set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const entries = this.#entries;
    entries.delete(key);
    if (entries.size >= this.#maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
    entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
    return DONE;
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return DONE;
  }
}

export function memoryCacheStore(options: MemoryCacheStoreOptions): MemoryCacheStore {
  return new MemoryCacheStore(options);
}
