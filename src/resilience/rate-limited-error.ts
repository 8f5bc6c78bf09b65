import { JunctionError } from "../core/errors.js";

/** Thrown by `rateLimit` when a call is over the limit; `retryAfterMs` says when to try again. */
export class RateLimitedError extends JunctionError {
  constructor(key: string, limit: number, retryAfterMs: number) {
    super(`Rate limit of ${limit} reached for key "${key}"; retry in ${retryAfterMs} ms or raise the limit`, {
      kind: "transient",
      code: "rate_limited",
      retryAfterMs,
      context: { key, limit },
    });
    this.name = "RateLimitedError";
  }
}
