import type { RetryConfig } from "../../config/model.js";
import { RetryPolicy } from "../../resilience/retry.js";
import { durationMs } from "../shared/config-fields.js";
import type { HttpSourceRetryOptions } from "./schema.js";

/**
 * Retries of the requests the connector makes on its own (source pages, `call` steps): the
 * step's own `retry` option, else the connection's `resilience.retry`, else 3 attempts,
 * exponential from 500 ms to 30 s with full jitter. Only transient failures are retried, never
 * sooner than their Retry-After.
 */
export function httpRetryPolicy(own: HttpSourceRetryOptions | undefined, connection: RetryConfig | undefined): RetryPolicy {
  if (own === undefined && connection !== undefined) {
    return new RetryPolicy({
      maxAttempts: connection.attempts,
      backoff: { kind: connection.backoff, baseDelayMs: connection.baseDelayMs, maxDelayMs: connection.maxDelayMs, jitter: connection.jitter },
    });
  }
  return new RetryPolicy({
    maxAttempts: own?.attempts ?? 3,
    backoff: { kind: "exponential", baseDelayMs: durationMs(own?.base_delay, 500), maxDelayMs: durationMs(own?.max_delay, 30_000), jitter: "full" },
  });
}
