import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { permanentError, transientError } from "../../src/core/errors.js";
import type { Clock } from "../../src/resilience/clock.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { retry } from "../../src/resilience/retry.js";
import type { GiveUpEvent, RetryEvent, RetryOptions } from "../../src/resilience/retry.js";
import { parseRetryAfter, retryAfterMs } from "../../src/resilience/retry-after.js";

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter?: number | string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Runs `fn` under a retry on a FakeClock, advancing time until it settles; returns when each attempt started. */
async function runOnFakeClock<T>(options: RetryOptions, fn: (attempt: number) => T | Promise<T>, advanceMs = 1_000_000) {
  const clock = new FakeClock();
  const policy = retry({ ...options, clock });
  const startedAt: number[] = [];
  const outcome = policy
    .execute(({ attempt }) => {
      startedAt.push(clock.now());
      return fn(attempt);
    })
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  await clock.advance(advanceMs);
  return { outcome: await outcome, startedAt, clock };
}

const failing = (): never => {
  throw transientError("upstream hiccup");
};

describe("retry schedules", () => {
  test("exponential doubles from the base up to the cap", async () => {
    const { outcome, startedAt } = await runOnFakeClock({ maxAttempts: 6, backoff: { kind: "exponential", baseDelayMs: 100, maxDelayMs: 500, jitter: "none" } }, failing);
    assert.equal(outcome.ok, false);
    assert.deepEqual(startedAt, [0, 100, 300, 700, 1200, 1700]);
  });

  test("linear and constant", async () => {
    const linear = await runOnFakeClock({ maxAttempts: 4, backoff: { kind: "linear", baseDelayMs: 100, maxDelayMs: 10_000, jitter: "none" } }, failing);
    assert.deepEqual(linear.startedAt, [0, 100, 300, 600]);
    const constant = await runOnFakeClock({ maxAttempts: 4, backoff: { kind: "constant", baseDelayMs: 250, maxDelayMs: 10_000, jitter: "none" } }, failing);
    assert.deepEqual(constant.startedAt, [0, 250, 500, 750]);
  });

  test("default is 3 attempts in all, and the last error is thrown", async () => {
    const errors: Error[] = [];
    const { outcome, startedAt } = await runOnFakeClock({}, (attempt) => {
      const error = transientError(`failure ${attempt}`);
      errors.push(error);
      throw error;
    });
    assert.equal(startedAt.length, 3);
    assert.deepEqual(outcome, { ok: false, error: errors[2] });
  });

  test("decorrelated jitter never gives NaN and never exceeds the cap over 10,000 retries", async () => {
    const slept: number[] = [];
    let now = 0;
    const recordingClock: Clock = {
      now: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    };
    const policy = retry({ maxAttempts: 10_001, backoff: { kind: "exponential", baseDelayMs: 50, maxDelayMs: 2_000, jitter: "decorrelated" }, clock: recordingClock });
    await assert.rejects(policy.execute(failing));
    assert.equal(slept.length, 10_000);
    for (const ms of slept) assert.ok(Number.isFinite(ms) && ms >= 0 && ms <= 2_000, `slept ${ms}`);
    assert.ok(new Set(slept.map(Math.round)).size > 100, "the delays vary");
  });

  test("the injected random drives full jitter", async () => {
    const { startedAt } = await runOnFakeClock({ maxAttempts: 3, random: () => 0.5, backoff: { kind: "exponential", baseDelayMs: 100, maxDelayMs: 10_000, jitter: "full" } }, failing);
    assert.deepEqual(startedAt, [0, 50, 150]);
  });
});

describe("what retry retries", () => {
  test("permanent errors are not retried", async () => {
    const error = permanentError("bad payload");
    const giveUps: GiveUpEvent[] = [];
    const clock = new FakeClock();
    const policy = retry({ clock });
    policy.onGiveUp.on((e) => giveUps.push(e));
    let calls = 0;
    await assert.rejects(
      policy.execute(() => {
        calls++;
        throw error;
      }),
      (e) => e === error,
    );
    assert.equal(calls, 1);
    assert.deepEqual(giveUps, []);
  });

  test("a network error code counts as transient", async () => {
    const { startedAt } = await runOnFakeClock({ backoff: { jitter: "none" } }, () => {
      throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    });
    assert.equal(startedAt.length, 3);
  });

  test("a predicate chooses", async () => {
    const { outcome, startedAt } = await runOnFakeClock({ maxAttempts: 5, handle: (e) => e instanceof Error && e.message === "again" }, (attempt) => {
      throw new Error(attempt < 3 ? "again" : "stop");
    });
    assert.equal(startedAt.length, 3);
    assert.equal(!outcome.ok && (outcome.error as Error).message, "stop");
  });

  test("error classes and kinds choose", async () => {
    const byClass = await runOnFakeClock({ handle: { classes: [HttpError] } }, () => {
      throw new HttpError(500);
    });
    assert.equal(byClass.startedAt.length, 3);
    const byKind = await runOnFakeClock({ handle: { kinds: ["permanent"] } }, () => {
      throw permanentError("retry me anyway");
    });
    assert.equal(byKind.startedAt.length, 3);
    const notTransient = await runOnFakeClock({ handle: { kinds: ["permanent"] } }, failing);
    assert.equal(notTransient.startedAt.length, 1);
  });

  test("results can be retried, and the last one is returned when retries run out", async () => {
    const statuses = [503, 503, 200];
    const ok = await runOnFakeClock({ maxAttempts: 5, handleResult: (r) => (r as { status: number }).status === 503 }, (attempt) => ({ status: statuses[attempt - 1] }));
    assert.deepEqual(ok.outcome, { ok: true, value: { status: 200 } });
    assert.equal(ok.startedAt.length, 3);

    const clock = new FakeClock();
    const policy = retry({ clock, handleResult: (r) => r === 503 });
    const giveUps: GiveUpEvent[] = [];
    policy.onGiveUp.on((e) => giveUps.push(e));
    const result = policy.execute(() => 503);
    await clock.advance(1_000_000);
    assert.equal(await result, 503);
    assert.deepEqual(giveUps, [{ attempts: 3, result: 503 }]);
  });

  test("maxElapsedMs stops before a sleep that would pass it; alone it lifts the attempt limit", async () => {
    const { startedAt } = await runOnFakeClock({ maxElapsedMs: 350, backoff: { kind: "constant", baseDelayMs: 100, jitter: "none" } }, failing);
    assert.deepEqual(startedAt, [0, 100, 200, 300]);
    const both = await runOnFakeClock({ maxAttempts: 2, maxElapsedMs: 350, backoff: { kind: "constant", baseDelayMs: 100, jitter: "none" } }, failing);
    assert.deepEqual(both.startedAt, [0, 100]);
  });

  test("invalid options are config errors", () => {
    assert.throws(() => retry({ maxAttempts: 0 }), { kind: "config" });
    assert.throws(() => retry({ maxAttempts: 1.5 }), { kind: "config" });
    assert.throws(() => retry({ maxElapsedMs: -1 }), { kind: "config" });
  });
});

describe("Retry-After", () => {
  test("retryAfterMs on a JunctionError is waited for when longer than the backoff", async () => {
    const { startedAt } = await runOnFakeClock({ maxAttempts: 2, backoff: { baseDelayMs: 100, jitter: "none" } }, () => {
      throw transientError("429 Too Many Requests", { retryAfterMs: 5_000 });
    });
    assert.deepEqual(startedAt, [0, 5_000]);
  });

  test("retryAfter in seconds, as a number or a string", async () => {
    for (const retryAfter of [3, "3"]) {
      const { startedAt } = await runOnFakeClock({ maxAttempts: 2, handle: { classes: [HttpError] }, backoff: { baseDelayMs: 100, jitter: "none" } }, () => {
        throw new HttpError(429, retryAfter);
      });
      assert.deepEqual(startedAt, [0, 3_000]);
    }
  });

  test("retryAfter as an HTTP-date", async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 10_000).toUTCString();
    const delays: number[] = [];
    const clock = new FakeClock();
    const policy = retry({ clock, maxAttempts: 2, handle: { classes: [HttpError] }, backoff: { baseDelayMs: 100, jitter: "none" } });
    policy.onRetry.on((e) => delays.push(e.delayMs));
    const outcome = policy
      .execute(() => {
        throw new HttpError(503, at);
      })
      .catch((e: unknown) => e);
    await clock.advance(60_000);
    assert.ok((await outcome) instanceof HttpError);
    assert.equal(delays.length, 1);
    assert.ok((delays[0] as number) > 8_000 && (delays[0] as number) <= 10_000, `waited ${delays[0]} ms`);
  });

  test("the helper reads every form and ignores nonsense", () => {
    const now = Date.parse("2024-05-01T12:00:00Z");
    assert.equal(retryAfterMs(transientError("x", { retryAfterMs: 1_500 })), 1_500);
    assert.equal(retryAfterMs({ retryAfter: 2 }), 2_000);
    assert.equal(retryAfterMs({ retryAfter: " 7 " }), 7_000);
    assert.equal(retryAfterMs({ retryAfter: "Wed, 01 May 2024 12:00:30 GMT" }, now), 30_000);
    assert.equal(retryAfterMs({ retryAfter: "Wed, 01 May 2024 11:00:00 GMT" }, now), 0);
    assert.equal(retryAfterMs({ retryAfter: "soon" }), undefined);
    assert.equal(retryAfterMs({ retryAfter: -1 }), undefined);
    assert.equal(retryAfterMs(new Error("plain")), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(parseRetryAfter("120"), 120_000);
  });
});

describe("retry events", () => {
  test("onRetry, onGiveUp and onSuccess carry the right payloads", async () => {
    const clock = new FakeClock();
    const policy = retry({ clock, maxAttempts: 3, backoff: { kind: "exponential", baseDelayMs: 10, jitter: "none" } });
    const retries: RetryEvent[] = [];
    const giveUps: GiveUpEvent[] = [];
    const successes: Array<{ attempts: number }> = [];
    policy.onRetry.on((e) => retries.push(e));
    policy.onGiveUp.on((e) => giveUps.push(e));
    const subscription = policy.onSuccess.on((e) => successes.push(e));

    const first = transientError("first");
    const second = transientError("second");
    const ok = policy.execute(({ attempt }) => {
      if (attempt === 1) throw first;
      if (attempt === 2) throw second;
      return "done";
    });
    await clock.advance(1_000);
    assert.equal(await ok, "done");
    assert.deepEqual(retries, [
      { attempt: 1, delayMs: 10, error: first },
      { attempt: 2, delayMs: 20, error: second },
    ]);
    assert.deepEqual(successes, [{ attempts: 3 }]);

    const failed = policy.execute(failing).catch((e: unknown) => e);
    await clock.advance(1_000);
    const error = await failed;
    assert.deepEqual(giveUps, [{ attempts: 3, error }]);
    subscription.dispose();
    assert.equal(policy.onSuccess.size, 0);
  });
});

describe("retry and abort", () => {
  test("an abort during a backoff sleep rejects with the abort reason at once (fake clock)", async () => {
    const clock = new FakeClock();
    const policy = retry({ clock, backoff: { baseDelayMs: 60_000, jitter: "none" } });
    const controller = new AbortController();
    const reason = new Error("shutting down");
    let calls = 0;
    const outcome = policy
      .execute(() => {
        calls++;
        return failing();
      }, controller.signal)
      .catch((e: unknown) => e);
    await clock.advance(1);
    assert.equal(clock.pending, 1, "sleeping before the retry");
    controller.abort(reason);
    assert.equal(await outcome, reason);
    assert.equal(calls, 1);
    assert.equal(clock.pending, 0);
  });

  test("an abort during a backoff sleep ends the call promptly and leaves no timer (real clock)", async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const policy = retry({ backoff: { kind: "constant", baseDelayMs: 3_600_000, jitter: "none" } });
    const controller = new AbortController();
    const retrying = new Promise<void>((resolve) => policy.onRetry.on(() => setImmediate(resolve)));
    const rejectedAt = policy.execute(failing, controller.signal).then(
      () => assert.fail("should have been aborted"),
      () => performance.now(),
    );
    await retrying;
    assert.equal(timers(), before + 1, "the hour-long backoff timer is running");
    const abortedAt = performance.now();
    controller.abort();
    const elapsed = (await rejectedAt) - abortedAt;
    // The backoff is an hour: rejecting at all, well within a second, proves the sleep was cut short.
    assert.ok(elapsed < 1000, `rejected ${elapsed.toFixed(2)} ms after the abort`);
    assert.equal(timers(), before, "the backoff timer is gone");
  });

  test("a signal already aborted means no call at all, and a failure after an abort is not retried", async () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    await assert.rejects(
      retry().execute(() => calls++, controller.signal),
      (e: Error) => e.name === "AbortError",
    );
    assert.equal(calls, 0);

    const clock = new FakeClock();
    const late = new AbortController();
    await assert.rejects(
      retry({ clock }).execute(() => {
        calls++;
        late.abort();
        return failing();
      }, late.signal),
      { message: "upstream hiccup" },
    );
    assert.equal(calls, 1);
  });
});
