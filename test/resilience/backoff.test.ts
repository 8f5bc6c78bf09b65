import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffDelay, withRetryAfter } from "../../src/resilience/backoff.js";
import type { BackoffOptions } from "../../src/resilience/backoff.js";

const exponential: BackoffOptions = { backoff: "exponential", baseDelayMs: 100, maxDelayMs: 10_000, jitter: "none" };

describe("backoffDelay", () => {
  test("exponential doubles from the base and stops at the cap", () => {
    assert.deepEqual([1, 2, 3, 4, 8, 200].map((n) => backoffDelay(exponential, n, 0)), [100, 200, 400, 800, 10_000, 10_000]);
  });

  test("constant and linear", () => {
    assert.deepEqual([1, 2, 3].map((n) => backoffDelay({ ...exponential, backoff: "constant" }, n, 0)), [100, 100, 100]);
    assert.deepEqual([1, 2, 3].map((n) => backoffDelay({ ...exponential, backoff: "linear" }, n, 0)), [100, 200, 300]);
  });

  test("full jitter stays within [0, delay] and actually varies", () => {
    const seen = new Set<number>();
    for (let n = 1; n <= 1000; n++) {
      const d = backoffDelay({ ...exponential, jitter: "full" }, 3, 0);
      assert.ok(d >= 0 && d <= 400);
      seen.add(Math.round(d));
    }
    assert.ok(seen.size > 50, "jitter spreads retries instead of synchronising them");
  });

  test("decorrelated jitter never yields NaN or exceeds its cap over 10,000 iterations", () => {
    const options: BackoffOptions = { backoff: "exponential", baseDelayMs: 50, maxDelayMs: 2_000, jitter: "decorrelated" };
    let previous = 0;
    for (let n = 1; n <= 10_000; n++) {
      const d = backoffDelay(options, n, previous);
      assert.ok(Number.isFinite(d), `iteration ${n} gave ${d}`);
      assert.ok(d >= 0 && d <= 2_000, `iteration ${n} gave ${d}`);
      previous = d;
    }
  });

  test("edge randoms (0 and just below 1) stay in range", () => {
    for (const r of [0, 0.999999]) {
      const d = backoffDelay({ ...exponential, jitter: "decorrelated" }, 5, 5_000, () => r);
      assert.ok(d >= 100 && d <= 10_000);
    }
  });
});

describe("withRetryAfter", () => {
  test("never waits less than the server asked", () => {
    assert.equal(withRetryAfter(100, 2_000), 2_000);
    assert.equal(withRetryAfter(3_000, 2_000), 3_000);
    assert.equal(withRetryAfter(100, undefined), 100);
    assert.equal(withRetryAfter(100, Number.NaN), 100);
  });
});
