import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";

/** An in-process limiter: decides synchronously, and offers that as `acquireNow` beside the async contract. */
export abstract class SynchronousRateLimiter implements RateLimiter {
  /** The synchronous form of `tryAcquire`, for callers on a hot path. */
  abstract acquireNow(key?: string, permits?: number): RateDecision;

  tryAcquire(key: string = DEFAULT_RATE_LIMIT_KEY, permits = 1): Promise<RateDecision> {
    try {
      return Promise.resolve(this.acquireNow(key, permits));
    } catch (error) {
      return Promise.reject(error);
    }
  }
}
