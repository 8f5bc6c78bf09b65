import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../src/core/errors.js";
import { SlidingWindowAlert, p95Exceeds } from "../../src/observability/alerts.js";

function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

function recordMany(alert: SlidingWindowAlert, ok: number, failed: number, latencyMs?: number): void {
  for (let i = 0; i < ok; i++) alert.record(latencyMs === undefined ? { ok: true } : { ok: true, latencyMs });
  for (let i = 0; i < failed; i++) alert.record(latencyMs === undefined ? { ok: false } : { ok: false, latencyMs });
}

describe("SlidingWindowAlert", () => {
  test("stays quiet below minSamples however bad the outcomes", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ errorRateThreshold: 0.1, minSamples: 20, now: clock.now });
    recordMany(alert, 0, 19);
    assert.deepEqual(alert.evaluate(), { degraded: false });
    alert.record({ ok: false });
    const evaluation = alert.evaluate();
    assert.equal(evaluation.degraded, true);
    assert.match(evaluation.detail ?? "", /error rate 100\.0% over the last 1m is above the 10\.0% threshold \(20 of 20 failed\)/);
  });

  test("fires only when the error rate is above the threshold", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ errorRateThreshold: 0.25, now: clock.now });
    recordMany(alert, 30, 10);
    assert.equal(alert.stats().errorRate, 0.25);
    assert.equal(alert.evaluate().degraded, false, "exactly at the threshold is not above it");
    alert.record({ ok: false });
    assert.equal(alert.evaluate().degraded, true);
  });

  test("counts batches through count", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ errorRateThreshold: 0.5, now: clock.now });
    alert.record({ ok: true, count: 10 });
    alert.record({ ok: false, count: 30 });
    assert.deepEqual(
      { samples: alert.stats().samples, failures: alert.stats().failures },
      { samples: 40, failures: 30 },
    );
    assert.equal(alert.evaluate().degraded, true);
  });

  test("forgets outcomes once they slide out of the window", () => {
    const clock = fakeClock(0);
    const alert = new SlidingWindowAlert({ windowMs: 60_000, buckets: 6, errorRateThreshold: 0.1, now: clock.now });
    recordMany(alert, 0, 20); // bucket 0: [0s, 10s)
    clock.advance(30_000);
    recordMany(alert, 20, 0); // bucket 3
    assert.deepEqual([alert.stats().samples, alert.stats().failures], [40, 20]);
    assert.equal(alert.evaluate().degraded, true);

    clock.advance(29_999); // 59.999s: still in bucket 5, bucket 0 is still inside the window
    assert.equal(alert.stats().failures, 20);
    clock.advance(1); // 60s: bucket 6 takes the place of bucket 0
    assert.deepEqual([alert.stats().samples, alert.stats().failures], [20, 0]);
    assert.equal(alert.evaluate().degraded, false);

    clock.advance(30_000); // 90s: bucket 3 has left too
    assert.deepEqual(alert.stats(), { samples: 0, failures: 0, errorRate: 0, latencySamples: 0, slow: 0, meanLatencyMs: undefined });
  });

  test("reuses a ring slot for a new bucket without carrying old counts", () => {
    const clock = fakeClock(0);
    const alert = new SlidingWindowAlert({ windowMs: 4_000, buckets: 4, errorRateThreshold: 0.5, minSamples: 1, now: clock.now });
    alert.record({ ok: false, count: 5 }); // bucket 0, slot 0
    clock.advance(4_000); // bucket 4, slot 0 again
    alert.record({ ok: true });
    assert.deepEqual([alert.stats().samples, alert.stats().failures], [1, 0]);
  });

  test("ignores samples older than the bucket occupying their slot", () => {
    const clock = fakeClock(0);
    const alert = new SlidingWindowAlert({ windowMs: 4_000, buckets: 4, minSamples: 1, errorRateThreshold: 0.5, now: clock.now });
    alert.record({ ok: true }, 8_500); // bucket 8, slot 0
    alert.record({ ok: false }, 500); // bucket 0, slot 0: long gone
    assert.deepEqual([alert.stats(8_500).samples, alert.stats(8_500).failures], [1, 0]);
  });

  test("p95 latency fires when more than 5% of timed outcomes are slower than the threshold", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ latencyThresholdMs: 500, now: clock.now });
    recordMany(alert, 39, 0, 100);
    alert.record({ ok: true, latencyMs: 900 });
    alert.record({ ok: true, latencyMs: 500 }); // equal to the threshold is not slower
    // 41 samples: nearest-rank p95 is the 39th smallest; with 1 slow sample it is still fast.
    assert.equal(alert.evaluate().degraded, false);
    alert.record({ ok: true, latencyMs: 1200 });
    alert.record({ ok: true, latencyMs: 1300 });
    // 43 samples, p95 is the 41st smallest; 3 slow samples are the 41st..43rd.
    const evaluation = alert.evaluate();
    assert.equal(evaluation.degraded, true);
    assert.match(evaluation.detail ?? "", /p95 latency over the last 1m is above 500ms \(3 of 43 calls slower\)/);
    assert.equal(alert.evaluate().detail?.includes("error rate"), false);
  });

  test("outcomes without a latency count for the error rate only", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ latencyThresholdMs: 10, errorRateThreshold: 0.5, now: clock.now });
    recordMany(alert, 25, 0);
    alert.record({ ok: true, latencyMs: 50 });
    assert.deepEqual([alert.stats().samples, alert.stats().latencySamples, alert.stats().meanLatencyMs], [26, 1, 50]);
    assert.equal(alert.evaluate().degraded, false, "one timed outcome is below minSamples");
  });

  test("reports both reasons together", () => {
    const clock = fakeClock();
    const alert = new SlidingWindowAlert({ latencyThresholdMs: 100, errorRateThreshold: 0.1, now: clock.now });
    recordMany(alert, 10, 10, 1000);
    const evaluation = alert.evaluate();
    assert.equal(evaluation.degraded, true);
    assert.match(evaluation.detail ?? "", /error rate 50\.0% .*; p95 latency .* above 100ms/);
    alert.reset();
    assert.equal(alert.evaluate().degraded, false);
  });

  test("rejects thresholds that make no sense", () => {
    const isConfigError = (error: unknown): boolean => error instanceof JunctionError && error.kind === "config";
    assert.throws(() => new SlidingWindowAlert({ errorRateThreshold: 5 }), isConfigError);
    assert.throws(() => new SlidingWindowAlert({ latencyThresholdMs: 0 }), isConfigError);
    assert.throws(() => new SlidingWindowAlert({ windowMs: 0 }), isConfigError);
    assert.throws(() => new SlidingWindowAlert({ buckets: 1.5 }), isConfigError);
    assert.throws(() => new SlidingWindowAlert({ minSamples: 0 }), isConfigError);
  });
});

describe("p95Exceeds", () => {
  test("matches the nearest-rank p95 of sorted samples", () => {
    for (let n = 1; n <= 200; n++) {
      for (let slow = 0; slow <= n; slow++) {
        const sorted = [...Array.from({ length: n - slow }, () => 1), ...Array.from({ length: slow }, () => 2)];
        const p95 = sorted[Math.ceil(0.95 * n) - 1];
        assert.equal(p95Exceeds(slow, n), p95 === 2, `n=${n} slow=${slow}`);
      }
    }
    assert.equal(p95Exceeds(0, 0), false);
  });
});
