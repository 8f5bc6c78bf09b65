import { abortError } from "../core/abort.js";
import { configError, errorKind } from "../core/errors.js";
import { backoffDelay, withRetryAfter } from "./backoff.js";
import type { BackoffKind, BackoffOptions, JitterKind } from "./backoff.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { EventEmitter } from "./events.js";
import { failurePredicate } from "./failure-filter.js";
import type { FailureFilter } from "./failure-filter.js";
import type { Policy, PolicyFn, RetryContext } from "./policy.js";
import { retryAfterMs } from "./retry-after.js";
import { neverAbortedSignal } from "./policy.js";

export interface RetryBackoff {
  kind: BackoffKind;
  baseDelayMs: number;
  maxDelayMs: number;
  jitter: JitterKind;
}

/** Which failures to retry. Default: kind "transient" only (see `errorKind`). */
export type RetryHandle = FailureFilter;

export interface RetryOptions {
  /**
   * Total attempts including the first. Default 3, or unlimited when only `maxElapsedMs` is
   * given. Must be >= 1.
   */
  maxAttempts?: number;
  /** No retry is started whose backoff would end later than this after the first attempt began. */
  maxElapsedMs?: number;
  /** Default: exponential from 100 ms, capped at 30 s, full jitter. */
  backoff?: Partial<RetryBackoff>;
  handle?: RetryHandle;
  /**
   * Retries when this returns true for a result (e.g. a response with status 503). When the
   * retries are exhausted on such a result, `execute` RESOLVES with that last result (as
   * cockatiel does) and `onGiveUp` carries it; it does not throw.
   */
  handleResult?: (result: unknown) => boolean;
  clock?: Clock;
  /** Source of randomness for jitter; injectable for tests. */
  random?: () => number;
}

export interface RetryEvent {
  /** The attempt that just failed (1 = the first call). */
  attempt: number;
  /** How long the policy now sleeps before the next attempt. */
  delayMs: number;
  error?: unknown;
  result?: unknown;
}

export interface GiveUpEvent {
  attempts: number;
  error?: unknown;
  result?: unknown;
}

export interface RetrySuccessEvent {
  attempts: number;
}

const DEFAULT_BACKOFF: RetryBackoff = { kind: "exponential", baseDelayMs: 100, maxDelayMs: 30_000, jitter: "full" };

function isTransient(error: unknown): boolean {
  return errorKind(error) === "transient";
}

export class RetryPolicy implements Policy<RetryContext> {
  readonly onRetry = new EventEmitter<RetryEvent>();
  readonly onGiveUp = new EventEmitter<GiveUpEvent>();
  readonly onSuccess = new EventEmitter<RetrySuccessEvent>();

  readonly #maxAttempts: number;
  readonly #maxElapsedMs: number | undefined;
  readonly #backoff: BackoffOptions;
  readonly #handles: (error: unknown) => boolean;
  readonly #handleResult: ((result: unknown) => boolean) | undefined;
  readonly #clock: Clock;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    const maxAttempts = options.maxAttempts ?? (options.maxElapsedMs === undefined ? 3 : Number.POSITIVE_INFINITY);
    if (!(maxAttempts >= 1) || (Number.isFinite(maxAttempts) && !Number.isInteger(maxAttempts))) {
      throw configError(`retry maxAttempts must be a whole number >= 1 (it counts the first call), got ${String(options.maxAttempts)}`, { code: "resilience.retry_options" });
    }
    if (options.maxElapsedMs !== undefined && !(options.maxElapsedMs >= 0)) {
      throw configError(`retry maxElapsedMs must be a number of milliseconds >= 0, got ${String(options.maxElapsedMs)}`, { code: "resilience.retry_options" });
    }
    const b = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#maxAttempts = maxAttempts;
    this.#maxElapsedMs = options.maxElapsedMs;
    this.#backoff = { backoff: b.kind, baseDelayMs: b.baseDelayMs, maxDelayMs: b.maxDelayMs, jitter: b.jitter };
    this.#handles = options.handle === undefined ? isTransient : failurePredicate(options.handle);
    this.#handleResult = options.handleResult;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
  }

  async execute<T>(fn: PolicyFn<T, RetryContext>, signal?: AbortSignal): Promise<T> {
    const outer = signal ?? neverAbortedSignal;
    const clock = this.#clock;
    const started = this.#maxElapsedMs === undefined ? 0 : clock.now();
    let previousDelay = 0;
    for (let attempt = 1; ; attempt++) {
      if (outer.aborted) throw abortError(outer);
      let result: T | undefined;
      let error: unknown;
      let failed = false;
      try {
        result = await fn({ signal: outer, attempt });
      } catch (caught) {
        // An abort from the caller is never retried, nor is a failure we are not told to handle.
        if (outer.aborted || !this.#handles(caught)) throw caught;
        failed = true;
        error = caught;
      }
      if (!failed && (this.#handleResult === undefined || !this.#handleResult(result))) {
        if (this.onSuccess.size > 0) this.onSuccess.emit({ attempts: attempt });
        return result as T;
      }

      const delay = withRetryAfter(backoffDelay(this.#backoff, attempt, previousDelay, this.#random), retryAfterMs(failed ? error : result));
      const outOfTime = this.#maxElapsedMs !== undefined && clock.now() - started + delay > this.#maxElapsedMs;
      if (attempt >= this.#maxAttempts || outOfTime) {
        if (this.onGiveUp.size > 0) this.onGiveUp.emit(failed ? { attempts: attempt, error } : { attempts: attempt, result });
        if (failed) throw error;
        return result as T;
      }
      if (this.onRetry.size > 0) this.onRetry.emit(failed ? { attempt, delayMs: delay, error } : { attempt, delayMs: delay, result });
      await clock.sleep(delay, outer);
      previousDelay = delay;
    }
  }
}

/** Retries failed calls with backoff; see `RetryOptions` for what is retried and for how long. */
export function retry(options: RetryOptions = {}): RetryPolicy {
  return new RetryPolicy(options);
}
