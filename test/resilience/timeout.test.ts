import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, test } from "node:test";
import { abortError } from "../../src/core/abort.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { TimeoutError, timeout } from "../../src/resilience/timeout.js";

/** A call that settles only when its signal aborts, rejecting like fetch does. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(abortError(signal)), { once: true }));
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("cooperative timeout", () => {
  test("aborts the call's signal and rejects with a TimeoutError once the call gives up", async () => {
    const clock = new FakeClock();
    const policy = timeout(100, { clock });
    const events: Array<{ timeoutMs: number }> = [];
    policy.onTimeout.on((e) => events.push(e));
    let inner: AbortSignal | undefined;
    const outcome = policy
      .execute(({ signal }) => {
        inner = signal;
        return untilAborted(signal);
      })
      .catch((e: unknown) => e);
    await clock.advance(99);
    assert.equal(inner?.aborted, false);
    await clock.advance(1);
    const error = await outcome;
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "timeout");
    assert.equal(inner?.reason, error);
    assert.deepEqual(events, [{ timeoutMs: 100 }]);
  });

  test("a generic AbortError from the call becomes a TimeoutError with it as cause", async () => {
    const clock = new FakeClock();
    const plain = new Error("aborted");
    plain.name = "AbortError";
    const outcome = timeout(10, { clock })
      .execute(({ signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(plain))))
      .catch((e: unknown) => e);
    await clock.advance(10);
    const error = await outcome;
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.cause, plain);
  });

  test("waits for a call that ignores its signal, and keeps its late result", async () => {
    const clock = new FakeClock();
    const outcome = timeout(100, { clock }).execute(() => clock.sleep(300).then(() => "late but fine"));
    await clock.advance(300);
    assert.equal(await outcome, "late but fine");
  });

  test("a quick call resolves and its timer is cancelled", async () => {
    const clock = new FakeClock();
    assert.equal(await timeout(100, { clock }).execute(() => 42), 42);
    assert.equal(clock.pending, 0);
    const error = new Error("nope");
    await assert.rejects(
      timeout(100, { clock }).execute(() => {
        throw error;
      }),
      (e) => e === error,
    );
    assert.equal(clock.pending, 0);
  });

  test("the caller's abort reaches the call with the caller's reason", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    const outcome = timeout(1_000, { clock })
      .execute(({ signal }) => untilAborted(signal), controller.signal)
      .catch((e: unknown) => e);
    controller.abort(reason);
    assert.equal(await outcome, reason);
    assert.equal(clock.pending, 0);
  });
});

describe("aggressive timeout", () => {
  test("rejects at once even if the call ignores its signal, which is aborted too", async () => {
    const clock = new FakeClock();
    const policy = timeout(50, { clock, strategy: "aggressive" });
    let inner: AbortSignal | undefined;
    const outcome = policy
      .execute(({ signal }) => {
        inner = signal;
        return clock.sleep(10_000).then(() => "too late");
      })
      .catch((e: unknown) => e);
    await clock.advance(50);
    const error = await outcome;
    assert.ok(error instanceof TimeoutError);
    assert.equal(inner?.aborted, true);
    assert.equal(inner?.reason, error);
    await clock.advance(10_000); // the late result goes nowhere, no unhandled rejection
  });
});

describe("invalid timeouts", () => {
  test("are config errors", () => {
    assert.throws(() => timeout(-1), { kind: "config" });
    assert.throws(() => timeout(Number.NaN), { kind: "config" });
  });
});

describe("timeout leaves nothing behind (real clock)", () => {
  for (const strategy of ["cooperative", "aggressive"] as const) {
    test(`${strategy}: 1,000 quick calls and 1,000 timed-out calls leave no timer or listener`, async () => {
      const before = timers();
      const caller = new AbortController();
      const quick = timeout(60_000, { strategy });
      await Promise.all(Array.from({ length: 1_000 }, (_, i) => quick.execute(() => Promise.resolve(i), caller.signal)));
      assert.equal(timers(), before);
      assert.equal(getEventListeners(caller.signal, "abort").length, 0);

      const slow = timeout(1, { strategy });
      const outcomes = await Promise.allSettled(Array.from({ length: 1_000 }, () => slow.execute(({ signal }) => untilAborted(signal), caller.signal)));
      assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason instanceof TimeoutError));
      assert.equal(timers(), before);
      assert.equal(getEventListeners(caller.signal, "abort").length, 0);
    });
  }
});
