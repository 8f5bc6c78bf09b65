import type { BackoffKind, JitterKind } from "../config/model.js";

export type { BackoffKind, JitterKind };

export interface BackoffOptions {
  backoff: BackoffKind;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: JitterKind;
}

/**
 * Delay before retry number `retry` (1 = the first retry). `previousDelayMs` feeds
 * decorrelated jitter. The result is always finite, >= 0 and <= maxDelayMs.
 */
export function backoffDelay(options: BackoffOptions, retry: number, previousDelayMs: number, random: () => number = Math.random): number {
  const base = Math.max(0, options.baseDelayMs);
  const cap = Math.max(base, options.maxDelayMs);
  const n = Math.max(1, retry);
  let delay: number;
  switch (options.backoff) {
    case "constant":
      delay = base;
      break;
    case "linear":
      delay = base * n;
      break;
    case "exponential":
      // 2 ** 1023 is the largest finite power; past ~60 retries any cap is reached anyway.
      delay = base * 2 ** Math.min(n - 1, 60);
      break;
  }
  delay = Math.min(cap, delay);
  switch (options.jitter) {
    case "none":
      return delay;
    case "full":
      return random() * delay;
    case "decorrelated": {
      // "Decorrelated jitter": random between base and 3 × the previous delay, capped.
      const previous = previousDelayMs > 0 ? previousDelayMs : base;
      const upper = Math.min(cap, previous * 3);
      return Math.min(cap, base + random() * Math.max(0, upper - base));
    }
  }
}

/** Honours a server's Retry-After: never wait less than it asked. */
export function withRetryAfter(delayMs: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return delayMs;
  return Math.max(delayMs, retryAfterMs);
}
