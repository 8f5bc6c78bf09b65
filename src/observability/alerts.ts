import { formatDuration } from "../core/duration.js";
import { configError } from "../core/errors.js";

export interface SlidingWindowAlertOptions {
  /** Length of the window. Default 60s. */
  windowMs?: number;
  /** Fraction 0..1 of failed outcomes above which the window is degraded; undefined = not checked. */
  errorRateThreshold?: number;
  /** The p95 latency above which the window is degraded; undefined = not checked. */
  latencyThresholdMs?: number;
  /** Fewer outcomes than this in the window never degrade it. Default 20. */
  minSamples?: number;
  /** Number of buckets the window is divided into. Default 12. */
  buckets?: number;
  /** Clock in milliseconds; default Date.now. */
  now?: () => number;
}

export interface AlertSample {
  ok: boolean;
  /** Latency of the call; outcomes without one count towards the error rate only. */
  latencyMs?: number;
  /** How many outcomes this sample stands for (a batch of messages that shared one write). Default 1. */
  count?: number;
}

export interface AlertEvaluation {
  degraded: boolean;
  /** Why it is degraded, in words fit for a log line and a health report. */
  detail?: string;
}

export interface AlertWindowStats {
  samples: number;
  failures: number;
  errorRate: number;
  latencySamples: number;
  /** Outcomes slower than `latencyThresholdMs` (0 when no latency threshold is set). */
  slow: number;
  meanLatencyMs: number | undefined;
}

/**
 * Error rate and latency of the recent past, kept in a fixed ring of time buckets so memory
 * does not grow with traffic. The window slides one bucket at a time: it covers the current
 * bucket and the `buckets - 1` before it.
 *
 * The latency check is on the p95 (nearest rank): it fires when more than 5% of the timed
 * outcomes in the window were slower than the threshold. Counting the slow outcomes per
 * bucket makes that exact without keeping the samples.
 */
export class SlidingWindowAlert {
  readonly windowMs: number;
  readonly errorRateThreshold: number | undefined;
  readonly latencyThresholdMs: number | undefined;
  readonly minSamples: number;
  readonly #bucketMs: number;
  readonly #clock: () => number;
  readonly #epochs: Float64Array;
  readonly #total: Float64Array;
  readonly #failures: Float64Array;
  readonly #timed: Float64Array;
  readonly #slow: Float64Array;
  readonly #latencySum: Float64Array;

  constructor(options: SlidingWindowAlertOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.errorRateThreshold = options.errorRateThreshold;
    this.latencyThresholdMs = options.latencyThresholdMs;
    this.minSamples = options.minSamples ?? 20;
    const buckets = options.buckets ?? 12;
    if (!(this.windowMs > 0)) throw configError(`The alert window must be a positive duration, got ${this.windowMs}ms.`);
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > 10_000) {
      throw configError(`The alert window needs between 1 and 10000 buckets, got ${buckets}.`);
    }
    if (this.errorRateThreshold !== undefined && !(this.errorRateThreshold >= 0 && this.errorRateThreshold <= 1)) {
      throw configError(`error_rate_threshold is a fraction between 0 and 1 (0.05 = 5%), got ${this.errorRateThreshold}.`);
    }
    if (this.latencyThresholdMs !== undefined && !(this.latencyThresholdMs > 0)) {
      throw configError(`latency_threshold must be a positive duration, got ${this.latencyThresholdMs}ms.`);
    }
    if (!Number.isInteger(this.minSamples) || this.minSamples < 1) {
      throw configError(`minSamples must be a positive integer, got ${this.minSamples}.`);
    }
    this.#bucketMs = this.windowMs / buckets;
    this.#clock = options.now ?? Date.now;
    this.#epochs = new Float64Array(buckets).fill(-Infinity);
    this.#total = new Float64Array(buckets);
    this.#failures = new Float64Array(buckets);
    this.#timed = new Float64Array(buckets);
    this.#slow = new Float64Array(buckets);
    this.#latencySum = new Float64Array(buckets);
  }

  record(sample: AlertSample, now: number = this.#clock()): void {
    const count = sample.count ?? 1;
    if (!(count > 0)) return;
    const epoch = Math.floor(now / this.#bucketMs);
    const slot = this.#slotOf(epoch);
    const slotEpoch = this.#epochs[slot] as number;
    // A sample from before the bucket now occupying its slot is outside any window we will report.
    if (slotEpoch > epoch) return;
    if (slotEpoch !== epoch) this.#reset(slot, epoch);
    (this.#total[slot] as number) += count;
    if (!sample.ok) (this.#failures[slot] as number) += count;
    const latency = sample.latencyMs;
    if (latency !== undefined && Number.isFinite(latency) && latency >= 0) {
      (this.#timed[slot] as number) += count;
      (this.#latencySum[slot] as number) += latency * count;
      if (this.latencyThresholdMs !== undefined && latency > this.latencyThresholdMs) (this.#slow[slot] as number) += count;
    }
  }

  stats(now: number = this.#clock()): AlertWindowStats {
    const current = Math.floor(now / this.#bucketMs);
    const oldest = current - this.#epochs.length + 1;
    let samples = 0;
    let failures = 0;
    let timed = 0;
    let slow = 0;
    let latencySum = 0;
    for (let slot = 0; slot < this.#epochs.length; slot++) {
      const epoch = this.#epochs[slot] as number;
      if (epoch < oldest || epoch > current) continue;
      samples += this.#total[slot] as number;
      failures += this.#failures[slot] as number;
      timed += this.#timed[slot] as number;
      slow += this.#slow[slot] as number;
      latencySum += this.#latencySum[slot] as number;
    }
    return {
      samples,
      failures,
      errorRate: samples > 0 ? failures / samples : 0,
      latencySamples: timed,
      slow,
      meanLatencyMs: timed > 0 ? latencySum / timed : undefined,
    };
  }

  evaluate(now: number = this.#clock()): AlertEvaluation {
    const stats = this.stats(now);
    const window = formatDuration(this.windowMs);
    const reasons: string[] = [];
    if (this.errorRateThreshold !== undefined && stats.samples >= this.minSamples && stats.errorRate > this.errorRateThreshold) {
      reasons.push(
        `error rate ${percent(stats.errorRate)} over the last ${window} is above the ${percent(this.errorRateThreshold)} threshold (${stats.failures} of ${stats.samples} failed)`,
      );
    }
    if (this.latencyThresholdMs !== undefined && stats.latencySamples >= this.minSamples && p95Exceeds(stats.slow, stats.latencySamples)) {
      reasons.push(
        `p95 latency over the last ${window} is above ${formatDuration(this.latencyThresholdMs)} (${stats.slow} of ${stats.latencySamples} calls slower)`,
      );
    }
    return reasons.length > 0 ? { degraded: true, detail: reasons.join("; ") } : { degraded: false };
  }

  reset(): void {
    this.#epochs.fill(-Infinity);
  }

  #slotOf(epoch: number): number {
    const size = this.#epochs.length;
    return ((epoch % size) + size) % size;
  }

  #reset(slot: number, epoch: number): void {
    this.#epochs[slot] = epoch;
    this.#total[slot] = 0;
    this.#failures[slot] = 0;
    this.#timed[slot] = 0;
    this.#slow[slot] = 0;
    this.#latencySum[slot] = 0;
  }
}

/**
 * With n timed outcomes the nearest-rank p95 is the ceil(0.95·n)-th smallest, so it is above
 * the threshold exactly when at least n − ceil(0.95·n) + 1 outcomes are.
 */
export function p95Exceeds(slow: number, n: number): boolean {
  if (n <= 0) return false;
  return slow >= n - Math.ceil((95 * n) / 100) + 1;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
