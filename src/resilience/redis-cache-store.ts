import type { CacheHit, CacheStore } from "./cache-store.js";
import type { RedisCacheClient } from "./redis-client.js";

export interface RedisCacheStoreOptions {
  redis: RedisCacheClient;
  /** Prepended to every key as is, e.g. "myapp:cache:". */
  prefix: string;
}

/** A cache store in Redis, shared by processes: values as JSON, expiry by Redis (SET … PX). */
export class RedisCacheStore implements CacheStore {
  readonly #redis: RedisCacheClient;
  readonly #prefix: string;

  constructor(options: RedisCacheStoreOptions) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
  }

  async get(key: string): Promise<CacheHit | undefined> {
    const text = await this.#redis.get(this.#prefix + key);
    if (text === null) return undefined;
    return { value: JSON.parse(text) as unknown };
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const text: string | undefined = JSON.stringify(value);
    // JSON has no `undefined` (nor functions): there is nothing to store for them.
    if (text === undefined) return;
    await this.#redis.set(this.#prefix + key, text, "PX", Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }
}

export function redisCacheStore(options: RedisCacheStoreOptions): RedisCacheStore {
  return new RedisCacheStore(options);
}
