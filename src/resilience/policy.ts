/**
 * The resilience contract, modelled on cockatiel: small immutable policies that compose
 * with `pipeline(...)`, every execution taking an AbortSignal, events instead of callbacks.
 */
export interface PolicyContext {
  /** Aborts when the caller gives up, a timeout fires, or a hedged sibling won. Pass it on to I/O. */
  signal: AbortSignal;
}

export type PolicyFn<T, C extends PolicyContext = PolicyContext> = (context: C) => T | Promise<T>;

export interface Policy<C extends PolicyContext = PolicyContext> {
  /**
   * Runs `fn` under the policy. `signal` (optional) is the caller's: when it aborts, the
   * execution stops as soon as it can (sleeps end at once, queued calls leave the queue).
   */
  execute<T>(fn: PolicyFn<T, C>, signal?: AbortSignal): Promise<T>;
}

/** What a retry adds to the context. */
export interface RetryContext extends PolicyContext {
  /** 1 on the first call, 2 on the first retry, … */
  attempt: number;
}

/**
 * Shared by executions made without a signal (as cockatiel does): creating an
 * AbortController per call costs microseconds, and this one's controller is unreachable,
 * so it never aborts.
 */
export const neverAbortedSignal: AbortSignal = new AbortController().signal;

/** A policy that does nothing: the neutral element of `pipeline`. */
export const noopPolicy: Policy = {
  execute<T>(fn: PolicyFn<T>, signal?: AbortSignal): Promise<T> {
    const context: PolicyContext = { signal: signal ?? neverAbortedSignal };
    try {
      return Promise.resolve(fn(context));
    } catch (error) {
      return Promise.reject(error);
    }
  },
};
