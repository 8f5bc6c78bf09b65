import { sleep } from "../core/abort.js";

/** Time as the policies see it; tests substitute a fake one. */
export interface Clock {
  /** Milliseconds, monotonic enough for measuring intervals. */
  now(): number;
  /** Resolves after `ms`, rejects with an AbortError as soon as `signal` aborts; leaves nothing behind. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};
