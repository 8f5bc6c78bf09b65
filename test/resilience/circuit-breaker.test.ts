import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { BrokenCircuitError, circuitBreaker } from "../../src/resilience/circuit-breaker.js";
import type { CircuitBreakerOptions, CircuitBreakerPolicy } from "../../src/resilience/circuit-breaker.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";

const boom = (): never => {
  throw new Error("boom");
};

async function fail(breaker: CircuitBreakerPolicy): Promise<void> {
  await assert.rejects(breaker.execute(boom), /boom/);
}

function deferred(): { promise: Promise<string>; resolve(value: string): void; reject(error: unknown): void } {
  let resolve!: (value: string) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

function opened(clock: FakeClock, extra: Partial<CircuitBreakerOptions> = {}): Promise<CircuitBreakerPolicy> {
  const breaker = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 1 }, openDurationMs: 1000, clock, ...extra });
  return fail(breaker).then(() => breaker);
}

describe("circuit breaker states", () => {
  test("open refuses at once with BrokenCircuitError carrying the time left", async () => {
    const clock = new FakeClock();
    const breaker = await opened(clock);
    await clock.advance(300);
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    assert.equal(called, false);
    assert.ok(error instanceof BrokenCircuitError);
    assert.ok(error instanceof JunctionError);
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "circuit.open");
    assert.equal(error.retryAfterMs, 700);
  });

  test("open turns half-open after openDurationMs, judged from the clock with no timer", async () => {
    const before = timeouts();
    const clock = new FakeClock();
    const breaker = await opened(clock);
    assert.equal(timeouts(), before, "opening starts no timer");
    assert.equal(clock.pending, 0);
    await clock.advance(999);
    assert.equal(breaker.state, "open");
    await clock.advance(1);
    assert.equal(breaker.state, "half-open");
    assert.equal(await breaker.execute(() => "probe"), "probe");
    assert.equal(breaker.state, "closed");
    assert.equal(timeouts(), before);
  });

  test("half-open lets exactly maxProbes through under 100 concurrent callers", async () => {
    const clock = new FakeClock();
    const breaker = await opened(clock, { halfOpen: { maxProbes: 3, successThreshold: 3 } });
    await clock.advance(1000);
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    const calls = Array.from({ length: 100 }, () =>
      breaker.execute(() => {
        const gate = gates[started++];
        assert.ok(gate, "more probes started than allowed");
        return gate.promise;
      }),
    );
    const refused = await Promise.all(calls.slice(3).map((c) => c.catch((e: unknown) => e)));
    assert.equal(started, 3);
    assert.ok(refused.every((e) => e instanceof BrokenCircuitError && e.state === "half-open" && e.code === "circuit.open"));
    gates[0]?.resolve("a");
    gates[1]?.resolve("b");
    assert.deepEqual(await Promise.all(calls.slice(0, 2)), ["a", "b"]);
    assert.equal(breaker.state, "half-open", "2 of 3 successes needed");
    // a freed probe slot is available again while half-open
    assert.equal(await breaker.execute(() => "c"), "c");
    assert.equal(breaker.state, "closed");
    gates[2]?.resolve("late");
    assert.equal(await calls[2], "late", "a probe finishing after the close still returns its value");
    assert.equal(breaker.stats.calls, 0, "and does not count in the new closed state");
  });

  test("a probe failure re-opens for another full openDurationMs", async () => {
    const clock = new FakeClock();
    const breaker = await opened(clock, { halfOpen: { successThreshold: 2 } });
    await clock.advance(1000);
    assert.equal(await breaker.execute(() => 1), 1);
    assert.equal(breaker.state, "half-open");
    await fail(breaker);
    assert.equal(breaker.state, "open");
    const error = await breaker.execute(() => 1).catch((e: unknown) => e);
    assert.ok(error instanceof BrokenCircuitError);
    assert.equal(error.retryAfterMs, 1000);
  });

  test("handle decides which errors count; uncounted ones pass through", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      window: { kind: "consecutive", failureThreshold: 2 },
      openDurationMs: 1000,
      clock,
      handle: (error) => !(error instanceof JunctionError && error.kind === "permanent"),
    });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        breaker.execute(() => {
          throw new JunctionError("bad row", { kind: "permanent" });
        }),
        /bad row/,
      );
    }
    assert.equal(breaker.state, "closed");
    await fail(breaker);
    await fail(breaker);
    assert.equal(breaker.state, "open");
  });

  test("a call aborted by its caller does not count as a failure", async () => {
    const breaker = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 1 }, openDurationMs: 1000, clock: new FakeClock() });
    const controller = new AbortController();
    const call = breaker.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
      controller.signal,
    );
    controller.abort(new Error("caller gave up"));
    await assert.rejects(call, /caller gave up/);
    assert.equal(breaker.state, "closed");
    await assert.rejects(breaker.execute(() => 1, controller.signal), /caller gave up/);
  });

  test("isolate refuses everything until reset; reset closes and clears stats", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({
      window: { kind: "count", size: 10, minimumCalls: 5, failureRateThreshold: 0.5 },
      openDurationMs: 1000,
      clock,
    });
    await fail(breaker);
    breaker.isolate();
    assert.equal(breaker.state, "isolated");
    await clock.advance(1_000_000);
    const error = await breaker.execute(() => 1).catch((e: unknown) => e);
    assert.ok(error instanceof BrokenCircuitError);
    assert.equal(error.state, "isolated");
    assert.match(error.message, /reset\(\)/);
    breaker.reset();
    assert.equal(breaker.state, "closed");
    assert.equal(await breaker.execute(() => 2), 2);
    await fail(breaker);
    assert.deepEqual(breaker.stats, { calls: 2, failures: 1, slowCalls: 0 });
    breaker.reset();
    assert.deepEqual(breaker.stats, { calls: 0, failures: 0, slowCalls: 0 });
  });
});

describe("circuit breaker events", () => {
  test("fire in order: failure, state change, break; half-open; success, state change, reset", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 2 }, openDurationMs: 100, clock });
    const log: string[] = [];
    const subscriptions = [
      breaker.onFailure.on((e) => log.push(`failure:${(e.error as Error).message}:${e.durationMs}`)),
      breaker.onSuccess.on((e) => log.push(`success:${e.durationMs}`)),
      breaker.onStateChange.on((e) => log.push(`change:${e.from}->${e.to}:${e.reason}`)),
      breaker.onBreak.on((e) => log.push(`break:${e.reason}`)),
      breaker.onHalfOpen.on((e) => log.push(`half-open:${e.reason}`)),
      breaker.onReset.on((e) => log.push(`reset:${e.reason}`)),
    ];
    await fail(breaker);
    const slowFailure = breaker.execute(async () => {
      await clock.sleep(30);
      throw new Error("slow");
    });
    const rejected = assert.rejects(slowFailure, /slow/);
    await clock.advance(30);
    await rejected;
    await clock.advance(100);
    await breaker.execute(() => "ok");
    breaker.isolate();
    breaker.reset();
    assert.deepEqual(log, [
      "failure:boom:0",
      "failure:slow:30",
      "change:closed->open:failure-threshold",
      "break:failure-threshold",
      "change:open->half-open:open-elapsed",
      "half-open:open-elapsed",
      "success:0",
      "change:half-open->closed:probes-succeeded",
      "reset:probes-succeeded",
      "change:closed->isolated:isolated",
      "break:isolated",
      "change:isolated->closed:reset",
      "reset:reset",
    ]);
    for (const s of subscriptions) s.dispose();
    await fail(breaker);
    assert.equal(log.length, 13, "disposed listeners hear nothing");
  });
});

describe("circuit breaker snapshots", () => {
  const countOptions = { kind: "count", size: 5, minimumCalls: 5, failureRateThreshold: 0.6 } as const;

  test("snapshot is plain JSON and restore reproduces the state and window stats", async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ window: countOptions, openDurationMs: 1000, clock });
    await fail(breaker);
    await breaker.execute(() => 1);
    await fail(breaker);
    const saved = JSON.parse(JSON.stringify(breaker)) as ReturnType<CircuitBreakerPolicy["snapshot"]>;
    assert.deepEqual(saved, { version: 1, state: "closed", window: { kind: "count", outcomes: [1, 0, 1] } });

    const restored = circuitBreaker({ window: countOptions, openDurationMs: 1000, clock: new FakeClock(50_000), initialState: saved });
    assert.deepEqual(restored.stats, breaker.stats);
    await restored.execute(() => 1);
    assert.equal(restored.state, "closed", "2 of 4");
    await fail(restored);
    assert.equal(restored.state, "open", "3 of 5 = 60%: the restored history counted");
  });

  test("an open breaker resumes with the time it had left", async () => {
    const clock = new FakeClock();
    const breaker = await opened(clock);
    await clock.advance(400);
    const saved = breaker.snapshot();
    assert.equal(saved.state, "open");
    assert.equal(saved.openRemainingMs, 600);

    const laterClock = new FakeClock(123_456);
    const restored = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 1 }, openDurationMs: 1000, clock: laterClock });
    const changes: string[] = [];
    restored.onStateChange.on((e) => changes.push(`${e.from}->${e.to}:${e.reason}`));
    restored.restore(saved);
    assert.deepEqual(changes, ["closed->open:restored"]);
    const error = await restored.execute(() => 1).catch((e: unknown) => e);
    assert.ok(error instanceof BrokenCircuitError);
    assert.equal(error.retryAfterMs, 600);
    await laterClock.advance(600);
    assert.equal(restored.state, "half-open");
  });

  test("time windows, half-open progress and isolation survive a round trip", async () => {
    const clock = new FakeClock();
    const timeOptions = { kind: "time", windowMs: 1000, buckets: 4, minimumCalls: 10, failureRateThreshold: 0.5 } as const;
    const breaker = circuitBreaker({ window: timeOptions, openDurationMs: 1000, clock });
    await fail(breaker);
    await clock.advance(250);
    await breaker.execute(() => 1);
    await fail(breaker);
    const saved = breaker.snapshot();
    assert.deepEqual(saved.window, { kind: "time", calls: [0, 0, 1, 2], failures: [0, 0, 1, 1], slowCalls: [0, 0, 0, 0] });
    const otherClock = new FakeClock(7777);
    const restored = circuitBreaker({ window: timeOptions, openDurationMs: 1000, clock: otherClock, initialState: saved });
    assert.deepEqual(restored.snapshot(), saved);
    await otherClock.advance(750);
    assert.deepEqual(restored.stats, { calls: 2, failures: 1, slowCalls: 0 }, "the older bucket expires on schedule");

    const halfOpen = await opened(clock, { halfOpen: { successThreshold: 2 } });
    await clock.advance(1000);
    await halfOpen.execute(() => 1);
    const halfSaved = halfOpen.snapshot();
    assert.equal(halfSaved.state, "half-open");
    assert.equal(halfSaved.probeSuccesses, 1);
    const halfRestored = circuitBreaker({
      window: { kind: "consecutive", failureThreshold: 1 },
      openDurationMs: 1000,
      halfOpen: { successThreshold: 2 },
      clock,
      initialState: halfSaved,
    });
    await halfRestored.execute(() => 1);
    assert.equal(halfRestored.state, "closed", "one more success was enough");

    halfOpen.isolate();
    const isolated = circuitBreaker({ window: { kind: "consecutive", failureThreshold: 1 }, openDurationMs: 1000, clock, initialState: halfOpen.snapshot() });
    assert.equal(isolated.state, "isolated");
  });

  test("window stats of another window kind are dropped; junk is a config error", () => {
    const breaker = circuitBreaker({ window: countOptions, openDurationMs: 1000, clock: new FakeClock() });
    breaker.restore({ version: 1, state: "closed", window: { kind: "consecutive", failures: 3 } });
    assert.deepEqual(breaker.stats, { calls: 0, failures: 0, slowCalls: 0 });
    assert.throws(
      () => breaker.restore({ version: 2, state: "closed" } as unknown as ReturnType<CircuitBreakerPolicy["snapshot"]>),
      (error: unknown) => error instanceof JunctionError && error.kind === "config",
    );
  });
});
