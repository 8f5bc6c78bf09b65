import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { RateLimitKeyMap } from "./rate-limit-key-map.js";
import { DEFAULT_MAX_KEYS, RATE_EPSILON, ceilMs, requirePermits, requirePositive } from "./rate-limit-options.js";
import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision } from "./rate-limiter.js";
import { SynchronousRateLimiter } from "./synchronous-rate-limiter.js";

export interface TokenBucketOptions {
  /** Most tokens a bucket holds: the burst allowed after a quiet period. */
  capacity: number;
  /** Tokens added per second, continuously. */
  refillPerSecond: number;
  /** Most keys remembered; the least recently used bucket is forgotten beyond it (default 10,000). */
  maxKeys?: number;
  clock?: Clock;
}

interface Bucket {
  tokens: number;
  /** Clock time of the last refill. */
  refilledAt: number;
}

/**
 * An in-process token bucket per key. Buckets start full and refill lazily from the clock
 * when touched, so an idle key costs nothing and there is no timer.
 */
export class TokenBucket extends SynchronousRateLimiter {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly #perMs: number;
  readonly #clock: Clock;
  readonly #buckets: RateLimitKeyMap<Bucket>;

  constructor(options: TokenBucketOptions) {
    super();
    requirePositive("tokenBucket", "capacity", options.capacity);
    requirePositive("tokenBucket", "refillPerSecond", options.refillPerSecond);
    requirePositive("tokenBucket", "maxKeys", options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.capacity = options.capacity;
    this.refillPerSecond = options.refillPerSecond;
    this.#perMs = options.refillPerSecond / 1000;
    this.#clock = options.clock ?? systemClock;
    this.#buckets = new RateLimitKeyMap(options.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** Number of keys currently remembered. */
  get keyCount(): number {
    return this.#buckets.size;
  }

  acquireNow(key: string = DEFAULT_RATE_LIMIT_KEY, permits = 1): RateDecision {
    requirePermits("tokenBucket", permits, this.capacity);
    const now = this.#clock.now();
    const capacity = this.capacity;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, refilledAt: now };
      this.#buckets.add(key, bucket);
    } else if (now > bucket.refilledAt) {
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.refilledAt) * this.#perMs);
      bucket.refilledAt = now;
    }
    if (bucket.tokens + RATE_EPSILON >= permits) {
      bucket.tokens = Math.max(0, bucket.tokens - permits);
      return { allowed: true, remaining: Math.floor(bucket.tokens + RATE_EPSILON), retryAfterMs: 0, limit: capacity };
    }
    const retryAfterMs = Math.max(1, ceilMs(((permits - bucket.tokens) * 1000) / this.refillPerSecond));
    return { allowed: false, remaining: Math.floor(bucket.tokens + RATE_EPSILON), retryAfterMs, limit: capacity };
  }
}

export function tokenBucket(options: TokenBucketOptions): TokenBucket {
  return new TokenBucket(options);
}
