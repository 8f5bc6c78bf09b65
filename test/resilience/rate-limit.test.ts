import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { rateLimit } from "../../src/resilience/rate-limit.js";
import { RateLimitedError } from "../../src/resilience/rate-limited-error.js";
import type { RateDecision } from "../../src/resilience/rate-limiter.js";
import { slidingWindow } from "../../src/resilience/sliding-window.js";
import { tokenBucket } from "../../src/resilience/token-bucket.js";

async function acquireMany(limiter: { tryAcquire(key?: string, permits?: number): Promise<RateDecision> }, n: number, key?: string): Promise<RateDecision[]> {
  const out: RateDecision[] = [];
  for (let i = 0; i < n; i++) out.push(await limiter.tryAcquire(key));
  return out;
}

describe("tokenBucket", () => {
  test("allows a burst of `capacity`, then rejects with the exact wait for one token", async () => {
    const clock = new FakeClock();
    const bucket = tokenBucket({ capacity: 5, refillPerSecond: 2, clock });
    const burst = await acquireMany(bucket, 5);
    assert.deepEqual(
      burst.map((d) => [d.allowed, d.remaining, d.retryAfterMs, d.limit]),
      [4, 3, 2, 1, 0].map((remaining) => [true, remaining, 0, 5]),
    );
    assert.deepEqual(await bucket.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 500, limit: 5 });
  });

  test("refills lazily from the clock, never beyond capacity", async () => {
    const clock = new FakeClock();
    const bucket = tokenBucket({ capacity: 5, refillPerSecond: 2, clock });
    await acquireMany(bucket, 5);
    await clock.advance(200); // 0.4 token
    assert.deepEqual(await bucket.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 300, limit: 5 });
    await clock.advance(300);
    assert.equal((await bucket.tryAcquire()).allowed, true);
    assert.equal((await bucket.tryAcquire()).allowed, false);
    await clock.advance(60_000);
    const afterIdle = await acquireMany(bucket, 6);
    assert.deepEqual(afterIdle.map((d) => d.allowed), [true, true, true, true, true, false]);
  });

  test("several permits at once, and a request above capacity is a configuration error", async () => {
    const clock = new FakeClock();
    const bucket = tokenBucket({ capacity: 10, refillPerSecond: 4, clock });
    assert.deepEqual(await bucket.tryAcquire("k", 7), { allowed: true, remaining: 3, retryAfterMs: 0, limit: 10 });
    assert.deepEqual(await bucket.tryAcquire("k", 5), { allowed: false, remaining: 3, retryAfterMs: 500, limit: 10 });
    await assert.rejects(bucket.tryAcquire("k", 11), (error: unknown) => error instanceof JunctionError && error.kind === "config");
  });

  test("keys are isolated, and the least recently used key is evicted beyond maxKeys", async () => {
    const clock = new FakeClock();
    const bucket = tokenBucket({ capacity: 1, refillPerSecond: 1, maxKeys: 2, clock });
    assert.equal((await bucket.tryAcquire("a")).allowed, true);
    assert.equal((await bucket.tryAcquire("b")).allowed, true);
    assert.equal((await bucket.tryAcquire("a")).allowed, false, "a is empty; b's use did not refill it");
    // a was used last, so adding c evicts b, whose bucket then starts full again.
    assert.equal((await bucket.tryAcquire("c")).allowed, true);
    assert.equal(bucket.keyCount, 2);
    assert.equal((await bucket.tryAcquire("a")).allowed, false, "a was kept");
    assert.equal((await bucket.tryAcquire("b")).allowed, true, "b was forgotten");
  });

  test("rejects invalid options", () => {
    assert.throws(() => tokenBucket({ capacity: 0, refillPerSecond: 1 }), /capacity/);
    assert.throws(() => tokenBucket({ capacity: 1, refillPerSecond: Number.NaN }), /refillPerSecond/);
  });
});

describe("slidingWindow", () => {
  test("allows `limit` per window and computes the exact wait into the next window", async () => {
    const clock = new FakeClock();
    const window = slidingWindow({ limit: 10, windowMs: 1000, clock });
    const first = await acquireMany(window, 10);
    assert.deepEqual(first.map((d) => d.remaining), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    // Next window at 1000 weights these 10 by (1 - f); one more fits once f >= 0.1.
    assert.deepEqual(await window.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 1100, limit: 10 });
    await clock.advance(1099);
    assert.equal((await window.tryAcquire()).allowed, false);
    await clock.advance(1);
    assert.equal((await window.tryAcquire()).allowed, true);
    assert.equal((await window.tryAcquire()).allowed, false);
  });

  test("weights the previous window by its overlap with the sliding window", async () => {
    const clock = new FakeClock();
    const window = slidingWindow({ limit: 10, windowMs: 1000, clock });
    await acquireMany(window, 10);
    await clock.advance(1500); // half of the previous window still counts: estimate 5
    const half = await acquireMany(window, 6);
    assert.deepEqual(half.map((d) => d.allowed), [true, true, true, true, true, false]);
    // Estimate is 10 × 0.5 + 5 = 10: one more fits when 10 × (1 − f) + 5 <= 9, i.e. f >= 0.6, at 1600.
    assert.equal(half[5]?.retryAfterMs, 100);
    await clock.advance(100);
    assert.equal((await window.tryAcquire()).allowed, true);
  });

  test("a window skipped entirely forgets the old count", async () => {
    const clock = new FakeClock();
    const window = slidingWindow({ limit: 3, windowMs: 100, clock });
    await acquireMany(window, 3);
    await clock.advance(250);
    assert.deepEqual((await acquireMany(window, 4)).map((d) => d.allowed), [true, true, true, false]);
  });

  test("keys are isolated, and the least recently used key is evicted beyond maxKeys", async () => {
    const clock = new FakeClock();
    const window = slidingWindow({ limit: 1, windowMs: 1000, maxKeys: 2, clock });
    assert.equal((await window.tryAcquire("a")).allowed, true);
    assert.equal((await window.tryAcquire("b")).allowed, true);
    assert.equal((await window.tryAcquire("a")).allowed, false);
    assert.equal((await window.tryAcquire("c")).allowed, true);
    assert.equal(window.keyCount, 2);
    assert.equal((await window.tryAcquire("a")).allowed, false);
    assert.equal((await window.tryAcquire("b")).allowed, true, "b was forgotten");
  });
});

describe("rateLimit policy", () => {
  test("rejects with RateLimitedError carrying retryAfterMs, without calling the function", async () => {
    const clock = new FakeClock();
    const policy = rateLimit(tokenBucket({ capacity: 1, refillPerSecond: 4, clock }), { clock });
    const limited: string[] = [];
    policy.onRateLimited.on((event) => limited.push(`${event.key}:${event.decision.retryAfterMs}`));
    let calls = 0;
    assert.equal(await policy.execute(() => ++calls), 1);
    await assert.rejects(
      policy.execute(() => ++calls),
      (error: unknown) => error instanceof RateLimitedError && error.kind === "transient" && error.code === "rate_limited" && error.retryAfterMs === 250,
    );
    assert.equal(calls, 1);
    assert.deepEqual(limited, ["default:250"]);
  });

  test("keys executions by the key function", async () => {
    const clock = new FakeClock();
    let tenant = "a";
    const policy = rateLimit(slidingWindow({ limit: 1, windowMs: 1000, clock }), { key: () => tenant, clock });
    assert.equal(await policy.execute(() => "a1"), "a1");
    tenant = "b";
    assert.equal(await policy.execute(() => "b1"), "b1");
    await assert.rejects(policy.execute(() => "b2"), RateLimitedError);
  });

  test("with wait: sleeps retryAfterMs on the clock, then runs", async () => {
    const clock = new FakeClock();
    const policy = rateLimit(tokenBucket({ capacity: 1, refillPerSecond: 2, clock }), { wait: true, clock });
    await policy.execute(() => undefined);
    let done = false;
    const pending = policy.execute(() => "late").then((value) => {
      done = true;
      return value;
    });
    await clock.advance(499);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(await pending, "late");
  });

  test("with wait: an abort ends the wait at once and leaves no sleeper behind", async () => {
    const clock = new FakeClock();
    const policy = rateLimit(tokenBucket({ capacity: 1, refillPerSecond: 1, clock }), { wait: true, clock });
    await policy.execute(() => undefined);
    const controller = new AbortController();
    let called = false;
    const pending = policy.execute(() => {
      called = true;
    }, controller.signal);
    await clock.advance(10);
    assert.equal(clock.pending, 1);
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal(clock.pending, 0);
    assert.equal(called, false);
  });

  test("with wait and maxWaitMs: rejects when the wait would be longer", async () => {
    const clock = new FakeClock();
    const policy = rateLimit(tokenBucket({ capacity: 1, refillPerSecond: 1, clock }), { wait: true, maxWaitMs: 100, clock });
    await policy.execute(() => undefined);
    await assert.rejects(policy.execute(() => undefined), RateLimitedError);
    assert.equal(clock.pending, 0);
  });
});
