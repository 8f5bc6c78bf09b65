import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { RateLimitKeyMap } from "./rate-limit-key-map.js";
import { DEFAULT_MAX_KEYS, RATE_EPSILON, ceilMs, requirePermits, requirePositive } from "./rate-limit-options.js";
import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision } from "./rate-limiter.js";
import { SynchronousRateLimiter } from "./synchronous-rate-limiter.js";

export interface SlidingWindowOptions {
  /** Most permits per window. */
  limit: number;
  windowMs: number;
  /** Most keys remembered; the least recently used key is forgotten beyond it (default 10,000). */
  maxKeys?: number;
  clock?: Clock;
}

interface WindowCounter {
  /** Index of the current fixed window: floor(now / windowMs). */
  window: number;
  current: number;
  previous: number;
}

/**
 * How long until `permits` fit, for the sliding-window counter estimate
 * `previous × (1 − elapsed/windowMs) + current`; the Redis script mirrors it.
 */
export function slidingWindowRetryAfterMs(limit: number, windowMs: number, elapsedMs: number, previous: number, current: number, permits: number): number {
  if (current + permits <= limit + RATE_EPSILON) {
    // Fits within this window once enough of the previous window's weight has slid out.
    const fitsAtMs = windowMs - ((limit - current - permits) * windowMs) / previous;
    return Math.max(1, ceilMs(fitsAtMs - elapsedMs));
  }
  // Only in the next window, where this window's count becomes the weighted one.
  const fitsAtMs = windowMs - ((limit - permits) * windowMs) / current;
  return Math.max(1, ceilMs(windowMs - elapsedMs + fitsAtMs));
}

/**
 * An in-process sliding-window counter per key: the approximation that weights the previous
 * fixed window by how much of it still overlaps the sliding window. O(1) memory per key.
 */
export class SlidingWindow extends SynchronousRateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #clock: Clock;
  readonly #counters: RateLimitKeyMap<WindowCounter>;

  constructor(options: SlidingWindowOptions) {
    super();
    requirePositive("slidingWindow", "limit", options.limit);
    requirePositive("slidingWindow", "windowMs", options.windowMs);
    requirePositive("slidingWindow", "maxKeys", options.maxKeys ?? DEFAULT_MAX_KEYS);
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#clock = options.clock ?? systemClock;
    this.#counters = new RateLimitKeyMap(options.maxKeys ?? DEFAULT_MAX_KEYS);
  }

  /** Number of keys currently remembered. */
  get keyCount(): number {
    return this.#counters.size;
  }

  acquireNow(key: string = DEFAULT_RATE_LIMIT_KEY, permits = 1): RateDecision {
    const limit = this.limit;
    requirePermits("slidingWindow", permits, limit);
    const windowMs = this.windowMs;
    const now = this.#clock.now();
    const window = Math.floor(now / windowMs);
    let counter = this.#counters.get(key);
    if (counter === undefined) {
      counter = { window, current: 0, previous: 0 };
      this.#counters.add(key, counter);
    } else if (window !== counter.window) {
      counter.previous = window === counter.window + 1 ? counter.current : 0;
      counter.current = 0;
      counter.window = window;
    }
    const elapsedMs = now - window * windowMs;
    const estimate = (counter.previous * (windowMs - elapsedMs)) / windowMs + counter.current;
    if (estimate + permits <= limit + RATE_EPSILON) {
      counter.current += permits;
      return { allowed: true, remaining: Math.max(0, Math.floor(limit - estimate - permits + RATE_EPSILON)), retryAfterMs: 0, limit };
    }
    const retryAfterMs = slidingWindowRetryAfterMs(limit, windowMs, elapsedMs, counter.previous, counter.current, permits);
    return { allowed: false, remaining: Math.max(0, Math.floor(limit - estimate + RATE_EPSILON)), retryAfterMs, limit };
  }
}

export function slidingWindow(options: SlidingWindowOptions): SlidingWindow {
  return new SlidingWindow(options);
}
