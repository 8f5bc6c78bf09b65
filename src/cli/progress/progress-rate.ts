/**
 * Rows per second over a sliding window of recent samples, and the time left to reach an
 * expected total at that rate. A window (rather than the run's average) lets the figure
 * follow a sync that speeds up or slows down.
 */
export class ProgressRate {
  readonly #windowMs: number;
  readonly #times: number[] = [];
  readonly #counts: number[] = [];

  constructor(windowMs = 10_000) {
    this.#windowMs = windowMs;
  }

  /** Records the count seen at `now` (epoch ms). Counts only grow. */
  sample(now: number, count: number): void {
    this.#times.push(now);
    this.#counts.push(count);
    while (this.#times.length > 2 && now - (this.#times[1] as number) >= this.#windowMs) {
      this.#times.shift();
      this.#counts.shift();
    }
  }

  /** Rows per second across the window; undefined until two samples at least 0.5 s apart. */
  perSecond(): number | undefined {
    const last = this.#times.length - 1;
    if (last < 1) return undefined;
    const elapsed = (this.#times[last] as number) - (this.#times[0] as number);
    if (elapsed < 500) return undefined;
    return (((this.#counts[last] as number) - (this.#counts[0] as number)) * 1000) / elapsed;
  }

  /** Milliseconds until `total` at the current rate; undefined when unknown or stalled. */
  etaMs(total: number | undefined): number | undefined {
    const rate = this.perSecond();
    const done = this.#counts[this.#counts.length - 1];
    if (total === undefined || rate === undefined || rate <= 0 || done === undefined) return undefined;
    return (Math.max(0, total - done) / rate) * 1000;
  }
}
