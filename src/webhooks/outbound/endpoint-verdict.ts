/** What one delivery attempt's answer means for the delivery and for its endpoint. */
export type AttemptVerdict =
  /** 2xx: delivered. */
  | { outcome: "delivered" }
  /** Try again on the schedule (5xx, 429, 408, timeouts, network errors, other non-2xx answers). */
  | { outcome: "retry"; retryAfterMs?: number }
  /** 410 Gone: the endpoint asked to be removed; it is disabled and nothing more is sent to it. */
  | { outcome: "disable_endpoint"; reason: string };

/**
 * Only a 2xx counts as success: a 3xx is not followed (a redirect could point anywhere,
 * including an internal address) and counts as a failure like a 4xx, because a receiver
 * that rejects a webhook today may accept it after a deploy.
 */
export function attemptVerdict(status: number | undefined, retryAfterMs?: number): AttemptVerdict {
  if (status !== undefined && status >= 200 && status < 300) return { outcome: "delivered" };
  if (status === 410) return { outcome: "disable_endpoint", reason: "the endpoint answered 410 Gone" };
  return retryAfterMs === undefined ? { outcome: "retry" } : { outcome: "retry", retryAfterMs };
}

export interface EndpointHealthOptions {
  /** Disable an endpoint whose deliveries have all failed for this long. Default 5 days. */
  disableAfterMs?: number;
}

/**
 * Tracks an endpoint's run of failures: once every attempt has failed for `disableAfterMs`
 * since the first failure of the run, the endpoint is to be disabled (and an event raised).
 * A success ends the run.
 */
export class EndpointHealth {
  readonly #disableAfterMs: number;
  #failingSince: number | undefined;

  constructor(options: EndpointHealthOptions = {}, failingSince?: number) {
    this.#disableAfterMs = options.disableAfterMs ?? 5 * 86_400_000;
    this.#failingSince = failingSince;
  }

  get failingSince(): number | undefined {
    return this.#failingSince;
  }

  succeeded(): void {
    this.#failingSince = undefined;
  }

  /** Records a failed attempt at `now`; true when the endpoint should now be disabled. */
  failed(now: number): boolean {
    this.#failingSince ??= now;
    return now - this.#failingSince >= this.#disableAfterMs;
  }
}
