import { abortError } from "../core/abort.js";
import { JunctionError, configError, isAbortError } from "../core/errors.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { startTimer } from "./clock-timer.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyContext, PolicyFn } from "./policy.js";

/** A call ran longer than its timeout. Transient: trying again may well succeed. */
export class TimeoutError extends JunctionError {
  constructor(timeoutMs: number, cause?: unknown) {
    super(`The operation did not finish within ${timeoutMs} ms; raise the timeout or find out why the call is slow`, {
      kind: "transient",
      code: "timeout",
      context: { timeoutMs },
      cause,
    });
    this.name = "TimeoutError";
  }
}

/**
 * - cooperative: when time is up the call's signal aborts and the policy waits for the call to
 *   settle; a rejection then becomes a TimeoutError, a late success is kept. A call that ignores
 *   its signal is never cut short.
 * - aggressive: when time is up the policy rejects at once with a TimeoutError and also aborts
 *   the call's signal; whatever the call does later is ignored.
 */
export type TimeoutStrategy = "cooperative" | "aggressive";

export interface TimeoutOptions {
  strategy?: TimeoutStrategy;
  clock?: Clock;
}

export interface TimeoutEvent {
  timeoutMs: number;
}

export class TimeoutPolicy implements Policy<PolicyContext> {
  readonly onTimeout = new EventEmitter<TimeoutEvent>();
  readonly #ms: number;
  readonly #aggressive: boolean;
  readonly #clock: Clock;

  constructor(ms: number, options: TimeoutOptions = {}) {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw configError(`timeout must be a finite number of milliseconds >= 0, got ${String(ms)}`, { code: "resilience.timeout_options" });
    this.#ms = ms;
    this.#aggressive = (options.strategy ?? "cooperative") === "aggressive";
    this.#clock = options.clock ?? systemClock;
  }

  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      let timeoutError: TimeoutError | undefined;
      let settled = false;
      const onCallerAbort = (): void => controller.abort(signal?.reason);
      const release = (): void => {
        settled = true;
        cancelTimer();
        signal?.removeEventListener("abort", onCallerAbort);
      };
      const cancelTimer = startTimer(this.#clock, this.#ms, () => {
        if (settled) return;
        timeoutError = new TimeoutError(this.#ms);
        if (this.onTimeout.size > 0) this.onTimeout.emit({ timeoutMs: this.#ms });
        if (this.#aggressive) {
          release();
          reject(timeoutError);
        }
        controller.abort(timeoutError);
      });
      signal?.addEventListener("abort", onCallerAbort, { once: true });

      let pending: T | Promise<T>;
      try {
        pending = fn({ signal: controller.signal });
      } catch (error) {
        release();
        reject(error);
        return;
      }
      Promise.resolve(pending).then(
        (value) => {
          if (settled) return;
          release();
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          release();
          // The call most likely failed because we aborted it: report that as the timeout.
          if (timeoutError !== undefined && (error === timeoutError || isAbortError(error))) reject(error === timeoutError ? error : new TimeoutError(this.#ms, error));
          else reject(error);
        },
      );
    });
  }
}

/** Limits how long a call may run; see `TimeoutStrategy`. Default strategy: cooperative. */
export function timeout(ms: number, options: TimeoutOptions = {}): TimeoutPolicy {
  return new TimeoutPolicy(ms, options);
}
