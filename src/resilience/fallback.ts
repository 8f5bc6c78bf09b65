import { EventEmitter } from "./events.js";
import type { PolicyContext, PolicyFn } from "./policy.js";
import { failurePredicate } from "./failure-filter.js";
import type { FailureFilter } from "./failure-filter.js";
import { neverAbortedSignal } from "./policy.js";

export interface FallbackOptions {
  /** Which failures get the fallback; default: every failure.  */
  handle?: FailureFilter;
}

export interface FallbackEvent {
  error: unknown;
}

/** What to return instead: a value, or a function of the error computing one. */
export type FallbackValue<R> = R | ((error: unknown) => R | Promise<R>);

/**
 * Not a `Policy<C>` in the strict sense: `execute` resolves with `T | R`, the call's result or
 * the fallback. `pipeline` knows this and widens its own result type accordingly.
 */
export class FallbackPolicy<R> {
  readonly onFallback = new EventEmitter<FallbackEvent>();
  readonly #value: FallbackValue<R>;
  readonly #handles: (error: unknown) => boolean;

  constructor(value: FallbackValue<R>, options: FallbackOptions = {}) {
    this.#value = value;
    this.#handles = options.handle === undefined ? () => true : failurePredicate(options.handle);
  }

  async execute<T>(fn: PolicyFn<T, PolicyContext>, signal?: AbortSignal): Promise<T | R> {
    try {
      return await fn({ signal: signal ?? neverAbortedSignal });
    } catch (error) {
      if (signal?.aborted || !this.#handles(error)) throw error;
      if (this.onFallback.size > 0) this.onFallback.emit({ error });
      const value = this.#value;
      return typeof value === "function" ? await (value as (error: unknown) => R | Promise<R>)(error) : value;
    }
  }
}

/**
 * Returns `value` (or `value(error)`) when the call fails. A function `R` cannot be returned
 * as a plain value; wrap it: `fallback(() => myFunction)`.
 */
export function fallback<R>(value: FallbackValue<R>, options: FallbackOptions = {}): FallbackPolicy<R> {
  return new FallbackPolicy(value, options);
}
