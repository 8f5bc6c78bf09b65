import { abortError } from "../core/abort.js";
import { configError } from "../core/errors.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { startTimer } from "./clock-timer.js";
import type { CancelTimer } from "./clock-timer.js";
import { EventEmitter } from "./events.js";
import type { Policy, PolicyContext, PolicyFn } from "./policy.js";

export interface HedgeOptions {
  /** How long a call may run before another, identical one is started next to it. */
  delayMs: number;
  /** Extra calls at most (each `delayMs` after the previous one). Default 1. */
  maxHedges?: number;
  clock?: Clock;
}

export interface HedgeEvent {
  /** 1 for the first extra call, 2 for the second, … */
  hedge: number;
  delayMs: number;
}

function lostError(): Error {
  const error = new Error("A hedged call finished first; this one is no longer needed");
  error.name = "AbortError";
  return error;
}

/**
 * Hedging fights slowness, not failure: extra calls start only on the `delayMs` timer. The
 * first call to SUCCEED wins and the others' signals are aborted. When every started call
 * has failed (and none is still running) the policy rejects with the last error, without
 * waiting for hedges not yet started; put a retry around the hedge to retry failures.
 */
export class HedgePolicy implements Policy<PolicyContext> {
  readonly onHedge = new EventEmitter<HedgeEvent>();
  readonly #delayMs: number;
  readonly #maxCalls: number;
  readonly #clock: Clock;

  constructor(options: HedgeOptions) {
    const maxHedges = options.maxHedges ?? 1;
    if (!(options.delayMs >= 0) || !Number.isFinite(options.delayMs)) throw configError(`hedge delayMs must be a finite number of milliseconds >= 0, got ${String(options.delayMs)}`, { code: "resilience.hedge_options" });
    if (!Number.isInteger(maxHedges) || maxHedges < 0) throw configError(`hedge maxHedges must be a whole number >= 0, got ${String(options.maxHedges)}`, { code: "resilience.hedge_options" });
    this.#delayMs = options.delayMs;
    this.#maxCalls = 1 + maxHedges;
    this.#clock = options.clock ?? systemClock;
  }

  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const controllers: AbortController[] = [];
      let running = 0;
      let done = false;
      let cancelTimer: CancelTimer | undefined;

      const finish = (winner: AbortController | undefined, reason: unknown): void => {
        done = true;
        cancelTimer?.();
        signal?.removeEventListener("abort", onCallerAbort);
        for (const c of controllers) if (c !== winner && !c.signal.aborted) c.abort(reason);
      };
      const onCallerAbort = (): void => {
        if (done) return;
        finish(undefined, signal?.reason);
        reject(abortError(signal));
      };
      const start = (): void => {
        const controller = new AbortController();
        controllers.push(controller);
        running++;
        if (controllers.length < this.#maxCalls) {
          cancelTimer = startTimer(this.#clock, this.#delayMs, () => {
            if (done) return;
            if (this.onHedge.size > 0) this.onHedge.emit({ hedge: controllers.length, delayMs: this.#delayMs });
            start();
          });
        } else {
          cancelTimer = undefined;
        }
        let pending: T | Promise<T>;
        try {
          pending = fn({ signal: controller.signal });
        } catch (error) {
          pending = Promise.reject(error);
        }
        Promise.resolve(pending).then(
          (value) => {
            running--;
            if (done) return;
            finish(controller, controllers.length > 1 ? lostError() : undefined);
            resolve(value);
          },
          (error: unknown) => {
            running--;
            if (done || running > 0) return;
            finish(undefined, error);
            reject(error);
          },
        );
      };

      signal?.addEventListener("abort", onCallerAbort, { once: true });
      start();
    });
  }
}

/** Starts extra copies of a slow call and keeps the first success; see `HedgePolicy`. */
export function hedge(options: HedgeOptions): HedgePolicy {
  return new HedgePolicy(options);
}
