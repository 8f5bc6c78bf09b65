import { configError } from "../core/errors.js";
import { checkRateThresholds, isSlow, rateBreach } from "./breaker-window.js";
import type { BreakerWindow, BreakerWindowSnapshot, BreakerWindowStats, RateThresholds, WindowBreach } from "./breaker-window.js";

export interface CountWindowOptions extends RateThresholds {
  kind: "count";
  /** How many of the most recent calls are judged. */
  size: number;
}

const FAILED = 1;
const SLOW = 2;

/** A ring of the last `size` outcomes, one byte each, allocated on the first call so idle breakers stay small. */
export class CountWindow implements BreakerWindow {
  readonly #options: CountWindowOptions;
  #ring: Uint8Array | undefined;
  #next = 0;
  #calls = 0;
  #failures = 0;
  #slowCalls = 0;

  constructor(options: CountWindowOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw configError(`circuit breaker window size must be an integer >= 1, got ${String(options.size)}`);
    }
    checkRateThresholds(options);
    if (options.minimumCalls > options.size) {
      throw configError(`circuit breaker minimumCalls (${options.minimumCalls}) is larger than the window size (${options.size}), so it could never open; lower minimumCalls or raise size`);
    }
    this.#options = options;
  }

  record(_now: number, failed: boolean, durationMs: number): WindowBreach | undefined {
    this.#push((failed ? FAILED : 0) | (isSlow(this.#options, durationMs) ? SLOW : 0));
    return rateBreach(this.#options, this.#calls, this.#failures, this.#slowCalls);
  }

  #push(outcome: number): void {
    const ring = (this.#ring ??= new Uint8Array(this.#options.size));
    if (this.#calls === ring.length) {
      const old = ring[this.#next] as number;
      this.#failures -= old & FAILED;
      this.#slowCalls -= (old & SLOW) >> 1;
    } else {
      this.#calls++;
    }
    ring[this.#next] = outcome;
    this.#failures += outcome & FAILED;
    this.#slowCalls += (outcome & SLOW) >> 1;
    this.#next = this.#next + 1 === ring.length ? 0 : this.#next + 1;
  }

  reset(): void {
    this.#ring?.fill(0);
    this.#next = 0;
    this.#calls = 0;
    this.#failures = 0;
    this.#slowCalls = 0;
  }

  stats(): BreakerWindowStats {
    return { calls: this.#calls, failures: this.#failures, slowCalls: this.#slowCalls };
  }

  snapshot(): BreakerWindowSnapshot {
    const outcomes: number[] = [];
    const ring = this.#ring;
    if (ring) {
      const start = (this.#next - this.#calls + ring.length) % ring.length;
      for (let i = 0; i < this.#calls; i++) outcomes.push(ring[(start + i) % ring.length] as number);
    }
    return { kind: "count", outcomes };
  }

  restore(snapshot: BreakerWindowSnapshot): boolean {
    if (snapshot.kind !== "count" || !Array.isArray(snapshot.outcomes)) return false;
    this.reset();
    const outcomes = snapshot.outcomes.slice(-this.#options.size);
    for (const outcome of outcomes) this.#push(outcome & (FAILED | SLOW));
    return true;
  }
}
