import { TokenBucket } from "../../resilience/token-bucket.js";

/**
 * Caps the attempts sent to one endpoint (`throttle: { limit, per }`): a token bucket that
 * holds `limit` permits and refills `limit` per `per`.
 */
export class EndpointThrottle {
  readonly #bucket: TokenBucket;

  constructor(limit: number, perMs: number) {
    this.#bucket = new TokenBucket({ capacity: limit, refillPerSecond: (limit * 1000) / perMs });
  }

  /** Takes a permit: 0 when one was taken, else how many ms until one can be. */
  tryAcquire(): number {
    const decision = this.#bucket.acquireNow();
    return decision.allowed ? 0 : Math.max(1, decision.retryAfterMs);
  }
}
