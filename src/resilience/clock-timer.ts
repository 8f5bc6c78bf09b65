import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";

/** Cancels a timer started by `startTimer`; safe to call after it fired or more than once. */
export type CancelTimer = () => void;

function ignore(): void {}

/**
 * Calls `onFire` after `ms` on `clock`. The system clock gets a plain setTimeout (one
 * allocation, no listener); other clocks go through `clock.sleep` with a private signal.
 */
export function startTimer(clock: Clock, ms: number, onFire: () => void): CancelTimer {
  if (clock === systemClock) {
    const timer = setTimeout(onFire, ms);
    return () => clearTimeout(timer);
  }
  const controller = new AbortController();
  clock.sleep(ms, controller.signal).then(onFire, ignore);
  return () => controller.abort();
}
