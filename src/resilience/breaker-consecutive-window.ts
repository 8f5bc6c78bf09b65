import { configError } from "../core/errors.js";
import type { BreakerWindow, BreakerWindowSnapshot, BreakerWindowStats, WindowBreach } from "./breaker-window.js";

export interface ConsecutiveWindowOptions {
  kind: "consecutive";
  /** Opens after this many failures in a row; any success starts the count again. */
  failureThreshold: number;
}

export class ConsecutiveWindow implements BreakerWindow {
  readonly #threshold: number;
  #failures = 0;

  constructor(options: ConsecutiveWindowOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) {
      throw configError(`circuit breaker failureThreshold must be an integer >= 1, got ${String(options.failureThreshold)}`);
    }
    this.#threshold = options.failureThreshold;
  }

  record(_now: number, failed: boolean): WindowBreach | undefined {
    if (!failed) {
      this.#failures = 0;
      return undefined;
    }
    this.#failures++;
    return this.#failures >= this.#threshold ? "failure-threshold" : undefined;
  }

  reset(): void {
    this.#failures = 0;
  }

  stats(): BreakerWindowStats {
    return { calls: this.#failures, failures: this.#failures, slowCalls: 0 };
  }

  snapshot(): BreakerWindowSnapshot {
    return { kind: "consecutive", failures: this.#failures };
  }

  restore(snapshot: BreakerWindowSnapshot): boolean {
    if (snapshot.kind !== "consecutive" || !Number.isInteger(snapshot.failures) || snapshot.failures < 0) return false;
    this.#failures = snapshot.failures;
    return true;
  }
}
