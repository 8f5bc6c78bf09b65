import { abortError } from "../core/abort.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyContext, PolicyFn } from "./policy.js";
import { RateLimitedError } from "./rate-limited-error.js";
import { DEFAULT_RATE_LIMIT_KEY } from "./rate-limiter.js";
import type { RateDecision, RateLimiter } from "./rate-limiter.js";
import { neverAbortedSignal } from "./policy.js";

export interface RateLimitOptions {
  /** The limiter key of an execution (per tenant, per user, …); one shared key when left out. */
  key?: (context: PolicyContext) => string;
  /** Permits each execution takes (default 1). */
  permits?: number;
  /** Wait `retryAfterMs` (abortably) and try again instead of rejecting with RateLimitedError. */
  wait?: boolean;
  /** With `wait`: reject at once when the limiter asks for a longer wait than this (default no bound). */
  maxWaitMs?: number;
  clock?: Clock;
}

export interface RateLimitedEvent {
  key: string;
  decision: RateDecision;
}


/** A policy that lets an execution through only when `limiter` grants its permits. */
export class RateLimitPolicy implements Policy {
  /** An execution was over the limit (emitted before it waits or rejects). */
  readonly onRateLimited = new EventEmitter<RateLimitedEvent>();
  readonly limiter: RateLimiter;
  readonly #key: ((context: PolicyContext) => string) | undefined;
  readonly #permits: number;
  readonly #wait: boolean;
  readonly #maxWaitMs: number;
  readonly #clock: Clock;

  constructor(limiter: RateLimiter, options: RateLimitOptions = {}) {
    this.limiter = limiter;
    this.#key = options.key;
    this.#permits = options.permits ?? 1;
    this.#wait = options.wait ?? false;
    this.#maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    this.#clock = options.clock ?? systemClock;
  }

  async execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    const context: PolicyContext = { signal: signal ?? neverAbortedSignal };
    const key = this.#key === undefined ? DEFAULT_RATE_LIMIT_KEY : this.#key(context);
    for (;;) {
      if (context.signal.aborted) throw abortError(context.signal);
      const decision = await this.limiter.tryAcquire(key, this.#permits);
      if (decision.allowed) break;
      if (this.onRateLimited.size > 0) this.onRateLimited.emit({ key, decision });
      if (!this.#wait || decision.retryAfterMs > this.#maxWaitMs) throw new RateLimitedError(key, decision.limit, decision.retryAfterMs);
      await this.#clock.sleep(decision.retryAfterMs, signal);
    }
    return fn(context);
  }
}

export function rateLimit(limiter: RateLimiter, options: RateLimitOptions = {}): RateLimitPolicy {
  return new RateLimitPolicy(limiter, options);
}
