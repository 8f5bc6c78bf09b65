import { configError } from "../core/errors.js";
import { checkRateThresholds, isSlow, rateBreach } from "./breaker-window.js";
import type { BreakerWindow, BreakerWindowSnapshot, BreakerWindowStats, RateThresholds, WindowBreach } from "./breaker-window.js";

export interface TimeWindowOptions extends RateThresholds {
  kind: "time";
  /** How far back calls are judged. */
  windowMs: number;
  /** The window moves in steps of windowMs / buckets. */
  buckets: number;
}

/**
 * Calls of the last `windowMs`, counted in buckets. Buckets that fell out of the window are
 * cleared lazily when the next call (or read) comes, from `now`: no timer runs.
 */
export class TimeWindow implements BreakerWindow {
  readonly #options: TimeWindowOptions;
  readonly #bucketMs: number;
  /** calls, failures and slow calls of bucket i at [3i], [3i+1], [3i+2]; allocated on first use. */
  #counts: Uint32Array | undefined;
  /** Absolute index (now / bucketMs) of the bucket last written or rolled to. */
  #current = 0;
  #calls = 0;
  #failures = 0;
  #slowCalls = 0;

  constructor(options: TimeWindowOptions) {
    if (!(options.windowMs > 0)) throw configError(`circuit breaker windowMs must be > 0, got ${String(options.windowMs)}`);
    if (!Number.isInteger(options.buckets) || options.buckets < 1) {
      throw configError(`circuit breaker buckets must be an integer >= 1, got ${String(options.buckets)}`);
    }
    checkRateThresholds(options);
    this.#options = options;
    this.#bucketMs = options.windowMs / options.buckets;
  }

  record(now: number, failed: boolean, durationMs: number): WindowBreach | undefined {
    const counts = this.#roll(now);
    const at = 3 * this.#slot(this.#current);
    counts[at] = (counts[at] as number) + 1;
    this.#calls++;
    if (failed) {
      counts[at + 1] = (counts[at + 1] as number) + 1;
      this.#failures++;
    }
    if (isSlow(this.#options, durationMs)) {
      counts[at + 2] = (counts[at + 2] as number) + 1;
      this.#slowCalls++;
    }
    return rateBreach(this.#options, this.#calls, this.#failures, this.#slowCalls);
  }

  #slot(index: number): number {
    const b = this.#options.buckets;
    return ((index % b) + b) % b;
  }

  /** Clears the buckets that left the window since the last call: at most `buckets` steps. */
  #roll(now: number): Uint32Array {
    const index = Math.floor(now / this.#bucketMs);
    let counts = this.#counts;
    if (!counts) {
      counts = this.#counts = new Uint32Array(3 * this.#options.buckets);
      this.#current = index;
      return counts;
    }
    const gap = index - this.#current;
    if (gap <= 0) return counts;
    if (gap >= this.#options.buckets) {
      counts.fill(0);
      this.#calls = this.#failures = this.#slowCalls = 0;
    } else {
      for (let k = 1; k <= gap; k++) {
        const at = 3 * this.#slot(this.#current + k);
        this.#calls -= counts[at] as number;
        this.#failures -= counts[at + 1] as number;
        this.#slowCalls -= counts[at + 2] as number;
        counts[at] = counts[at + 1] = counts[at + 2] = 0;
      }
    }
    this.#current = index;
    return counts;
  }

  reset(): void {
    this.#counts?.fill(0);
    this.#calls = this.#failures = this.#slowCalls = 0;
  }

  stats(now: number): BreakerWindowStats {
    if (this.#counts) this.#roll(now);
    return { calls: this.#calls, failures: this.#failures, slowCalls: this.#slowCalls };
  }

  snapshot(now: number): BreakerWindowSnapshot {
    const b = this.#options.buckets;
    const calls = new Array<number>(b).fill(0);
    const failures = new Array<number>(b).fill(0);
    const slowCalls = new Array<number>(b).fill(0);
    if (this.#counts) {
      const counts = this.#roll(now);
      for (let i = 0; i < b; i++) {
        const at = 3 * this.#slot(this.#current - (b - 1) + i);
        calls[i] = counts[at] as number;
        failures[i] = counts[at + 1] as number;
        slowCalls[i] = counts[at + 2] as number;
      }
    }
    return { kind: "time", calls, failures, slowCalls };
  }

  restore(snapshot: BreakerWindowSnapshot, now: number): boolean {
    const b = this.#options.buckets;
    if (snapshot.kind !== "time" || [snapshot.calls, snapshot.failures, snapshot.slowCalls].some((a) => !Array.isArray(a) || a.length !== b)) {
      return false;
    }
    const counts = (this.#counts ??= new Uint32Array(3 * b));
    this.reset();
    this.#current = Math.floor(now / this.#bucketMs);
    for (let i = 0; i < b; i++) {
      const at = 3 * this.#slot(this.#current - (b - 1) + i);
      counts[at] = snapshot.calls[i] ?? 0;
      counts[at + 1] = snapshot.failures[i] ?? 0;
      counts[at + 2] = snapshot.slowCalls[i] ?? 0;
      this.#calls += counts[at] as number;
      this.#failures += counts[at + 1] as number;
      this.#slowCalls += counts[at + 2] as number;
    }
    return true;
  }
}
