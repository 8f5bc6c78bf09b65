import { configError } from "../core/errors.js";

/** Why a window asks the breaker to open. */
export type WindowBreach = "failure-threshold" | "slow-call-threshold";

/** What a window has seen, for snapshots, metrics and tests. */
export interface BreakerWindowStats {
  calls: number;
  failures: number;
  slowCalls: number;
}

export type BreakerWindowSnapshot =
  | { kind: "consecutive"; failures: number }
  /** Outcomes oldest first: bit 1 = failed, bit 2 = slow. */
  | { kind: "count"; outcomes: number[] }
  /** One entry per bucket, oldest first; the last is the bucket current when the snapshot was taken. */
  | { kind: "time"; calls: number[]; failures: number[]; slowCalls: number[] };

/**
 * How a circuit breaker decides to open: it sees every counted call of the closed state
 * and answers, in O(1), whether the failure (or slow-call) threshold is now crossed.
 */
export interface BreakerWindow {
  /** Records one finished call made while closed; returns the breach when the breaker should open. */
  record(now: number, failed: boolean, durationMs: number): WindowBreach | undefined;
  reset(): void;
  stats(now: number): BreakerWindowStats;
  snapshot(now: number): BreakerWindowSnapshot;
  /** Takes the stats back; returns false when the snapshot belongs to another kind or shape of window. */
  restore(snapshot: BreakerWindowSnapshot, now: number): boolean;
}

/** The rate thresholds shared by the count and time windows. */
export interface RateThresholds {
  /** Calls the window must hold before a rate is judged. */
  minimumCalls: number;
  /** Open when failures / calls reaches this (0..1). */
  failureRateThreshold: number;
  /** Open when slow calls / calls reaches this (0..1); needs `slowCallDurationMs`. */
  slowCallRateThreshold?: number;
  /** A call taking at least this long is slow, whether it failed or not. */
  slowCallDurationMs?: number;
}

export function checkRateThresholds(t: RateThresholds): void {
  if (!Number.isInteger(t.minimumCalls) || t.minimumCalls < 1) {
    throw configError(`circuit breaker minimumCalls must be an integer >= 1, got ${String(t.minimumCalls)}`);
  }
  checkRate("failureRateThreshold", t.failureRateThreshold);
  if (t.slowCallRateThreshold !== undefined) {
    checkRate("slowCallRateThreshold", t.slowCallRateThreshold);
    if (t.slowCallDurationMs === undefined || !(t.slowCallDurationMs >= 0)) {
      throw configError("circuit breaker slowCallRateThreshold needs slowCallDurationMs (>= 0): set how long a call may take before it counts as slow");
    }
  }
}

function checkRate(name: string, value: number): void {
  if (!(value > 0 && value <= 1)) throw configError(`circuit breaker ${name} must be a fraction in (0, 1], got ${String(value)}; 50% is 0.5`);
}

export function isSlow(t: RateThresholds, durationMs: number): boolean {
  return t.slowCallDurationMs !== undefined && durationMs >= t.slowCallDurationMs;
}

export function rateBreach(t: RateThresholds, calls: number, failures: number, slowCalls: number): WindowBreach | undefined {
  if (calls < t.minimumCalls) return undefined;
  if (failures >= t.failureRateThreshold * calls) return "failure-threshold";
  if (t.slowCallRateThreshold !== undefined && slowCalls >= t.slowCallRateThreshold * calls) return "slow-call-threshold";
  return undefined;
}
