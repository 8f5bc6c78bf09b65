/** The answer of a rate limiter; enough for a caller or a gateway to send `Retry-After`. */
export interface RateDecision {
  allowed: boolean;
  /** Permits left right after this decision (whole permits, never negative). */
  remaining: number;
  /** How long to wait before the same request can succeed; 0 when allowed. */
  retryAfterMs: number;
  /** The configured limit: the bucket's capacity or the window's limit. */
  limit: number;
}

/**
 * Something that hands out permits per key. `key` defaults to one shared key, `permits` to 1.
 * Asking for more permits than the limit is a configuration error (it could never succeed).
 */
export interface RateLimiter {
  tryAcquire(key?: string, permits?: number): Promise<RateDecision>;
}

export const DEFAULT_RATE_LIMIT_KEY = "default";
