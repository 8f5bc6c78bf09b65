import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { BrokenCircuitError, circuitBreaker } from "../../src/resilience/circuit-breaker.js";
import type { CircuitBreakerPolicy } from "../../src/resilience/circuit-breaker.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";

const boom = (): never => {
  throw new Error("boom");
};

async function fail(breaker: CircuitBreakerPolicy): Promise<void> {
  await assert.rejects(breaker.execute(boom), /boom/);
}

async function succeed(breaker: CircuitBreakerPolicy): Promise<void> {
  assert.equal(await breaker.execute(() => "ok"), "ok");
}

/** A call that takes `ms` on the fake clock. */
async function slow(breaker: CircuitBreakerPolicy, clock: FakeClock, ms: number, failing = false): Promise<void> {
  const call = breaker.execute(async () => {
    await clock.sleep(ms);
    if (failing) throw new Error("slow boom");
    return "ok";
  });
  const settled = call.then(
    () => undefined,
    () => undefined,
  );
  await clock.advance(ms);
  await settled;
}

describe("consecutive window", () => {
  test("opens on the Nth failure in a row; a success starts the count again", async () => {
    const breaker = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 3 }, openDurationMs: 1000, clock: new FakeClock() });
    await fail(breaker);
    await fail(breaker);
    await succeed(breaker);
    await fail(breaker);
    await fail(breaker);
    assert.equal(breaker.state, "closed");
    await fail(breaker);
    assert.equal(breaker.state, "open");
    await assert.rejects(breaker.execute(() => "never"), BrokenCircuitError);
  });
});

describe("count window", () => {
  test("waits for minimumCalls, then opens when the failure rate reaches the threshold", async () => {
    const breaker = circuitBreaker({
      window: { kind: "count", size: 10, minimumCalls: 4, failureRateThreshold: 0.5 },
      openDurationMs: 1000,
      clock: new FakeClock(),
    });
    await fail(breaker);
    await fail(breaker);
    await fail(breaker);
    assert.equal(breaker.state, "closed", "3 calls are below minimumCalls even at 100% failures");
    await succeed(breaker);
    assert.equal(breaker.state, "open", "4 calls, 3 failed: 75% >= 50%");
  });

  test("only the last `size` calls count: old failures roll out of the ring", async () => {
    const breaker = circuitBreaker({
      window: { kind: "count", size: 4, minimumCalls: 4, failureRateThreshold: 0.75 },
      openDurationMs: 1000,
      clock: new FakeClock(),
    });
    await fail(breaker);
    await fail(breaker);
    await succeed(breaker);
    await succeed(breaker); // ring: F F S S → 50%
    assert.deepEqual(breaker.stats, { calls: 4, failures: 2, slowCalls: 0 });
    await succeed(breaker); // F S S S
    await fail(breaker); // S S S F
    assert.deepEqual(breaker.stats, { calls: 4, failures: 1, slowCalls: 0 });
    await fail(breaker); // S S F F
    assert.equal(breaker.state, "closed");
    await fail(breaker); // S F F F → 75%
    assert.equal(breaker.state, "open");
  });

  test("slow-call rate opens the circuit even when every call succeeds", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      window: { kind: "count", size: 5, minimumCalls: 3, failureRateThreshold: 1, slowCallRateThreshold: 0.6, slowCallDurationMs: 100 },
      openDurationMs: 1000,
      clock,
    });
    await slow(breaker, clock, 150);
    await slow(breaker, clock, 50);
    await slow(breaker, clock, 50);
    assert.equal(breaker.state, "closed", "1 of 3 slow");
    await slow(breaker, clock, 100); // exactly the limit counts as slow
    assert.deepEqual(breaker.stats, { calls: 4, failures: 0, slowCalls: 2 });
    assert.equal(breaker.state, "closed", "2 of 4 slow = 50% < 60%");
    await slow(breaker, clock, 500);
    assert.equal(breaker.state, "open", "3 of 5 slow = 60%");
  });

  test("a slow failure counts both as failed and as slow", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      window: { kind: "count", size: 5, minimumCalls: 5, failureRateThreshold: 1, slowCallRateThreshold: 1, slowCallDurationMs: 10 },
      openDurationMs: 1000,
      clock,
    });
    await slow(breaker, clock, 20, true);
    assert.deepEqual(breaker.stats, { calls: 1, failures: 1, slowCalls: 1 });
  });

  test("bad options are config errors that say what to change", () => {
    assert.throws(
      () => circuitBreaker({ window: { kind: "count", size: 10, minimumCalls: 20, failureRateThreshold: 0.5 }, openDurationMs: 1 }),
      (error: unknown) => error instanceof JunctionError && error.kind === "config" && /lower minimumCalls/.test(error.message),
    );
    assert.throws(
      () => circuitBreaker({ window: { kind: "count", size: 10, minimumCalls: 5, failureRateThreshold: 50 }, openDurationMs: 1 }),
      /fraction/,
    );
    assert.throws(
      () => circuitBreaker({ window: { kind: "time", windowMs: 1000, buckets: 10, minimumCalls: 5, failureRateThreshold: 0.5, slowCallRateThreshold: 0.5 }, openDurationMs: 1 }),
      /slowCallDurationMs/,
    );
  });
});

describe("time window", () => {
  const options = { kind: "time", windowMs: 1000, buckets: 10, minimumCalls: 4, failureRateThreshold: 0.5 } as const;

  test("opens when the failure rate over the window reaches the threshold after minimumCalls", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: options, openDurationMs: 5000, clock });
    await succeed(breaker);
    await clock.advance(300);
    await succeed(breaker);
    await fail(breaker);
    assert.equal(breaker.state, "closed", "3 calls < minimumCalls");
    await clock.advance(300);
    await fail(breaker);
    assert.equal(breaker.state, "open", "2 of 4 failed within the second");
  });

  test("calls older than the window roll out lazily, without any timer", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: options, openDurationMs: 5000, clock });
    await fail(breaker);
    await fail(breaker);
    await fail(breaker);
    await clock.advance(500);
    await succeed(breaker);
    assert.deepEqual(breaker.stats, { calls: 4, failures: 3, slowCalls: 0 });
    assert.equal(breaker.state, "open");

    const second = circuitBreaker({ window: options, openDurationMs: 5000, clock });
    await fail(second);
    await fail(second);
    await fail(second);
    await clock.advance(1000); // the three failures' bucket has left the window
    assert.deepEqual(second.stats, { calls: 0, failures: 0, slowCalls: 0 });
    await succeed(second);
    await succeed(second);
    await succeed(second);
    await fail(second);
    assert.deepEqual(second.stats, { calls: 4, failures: 1, slowCalls: 0 });
    assert.equal(second.state, "closed");
    await clock.advance(50_000); // a long idle gap clears everything at once
    assert.deepEqual(second.stats, { calls: 0, failures: 0, slowCalls: 0 });
  });

  test("partly expired windows keep the buckets still inside", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: options, openDurationMs: 5000, clock });
    for (let i = 0; i < 10; i++) {
      await succeed(breaker);
      await clock.advance(100);
    }
    // now = 1000: the call at t=0 has left, the ones at 100..900 remain
    assert.equal(breaker.stats.calls, 9);
    await clock.advance(450);
    assert.equal(breaker.stats.calls, 5, "calls at 500..900 remain at t=1450");
  });

  test("slow-call rate over time", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: { ...options, failureRateThreshold: 1, slowCallRateThreshold: 0.5, slowCallDurationMs: 100 }, openDurationMs: 5000, clock });
    await slow(breaker, clock, 200);
    await slow(breaker, clock, 10);
    await slow(breaker, clock, 10);
    assert.equal(breaker.state, "closed");
    await slow(breaker, clock, 100);
    assert.equal(breaker.state, "open", "2 of 4 slow");
  });
});
