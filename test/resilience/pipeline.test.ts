import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { abortError } from "../../src/core/abort.js";
import { permanentError, transientError } from "../../src/core/errors.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { fallback } from "../../src/resilience/fallback.js";
import { pipeline, wrap } from "../../src/resilience/pipeline.js";
import { noopPolicy } from "../../src/resilience/policy.js";
import { retry } from "../../src/resilience/retry.js";
import { TimeoutError, timeout } from "../../src/resilience/timeout.js";

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(abortError(signal)), { once: true }));
}

describe("pipeline", () => {
  test("pipeline(retry, timeout): every attempt gets its own timeout and the context has both", async () => {
    const clock = new FakeClock();
    const inner = timeout(50, { clock });
    const policy = pipeline(retry({ clock, maxAttempts: 3, backoff: { kind: "constant", baseDelayMs: 10, jitter: "none" } }), inner);
    let timeouts = 0;
    inner.onTimeout.on(() => timeouts++);
    const attempts: number[] = [];
    const signals: AbortSignal[] = [];
    const outcome = policy
      .execute(({ attempt, signal }) => {
        attempts.push(attempt);
        signals.push(signal);
        return attempt < 3 ? untilAborted(signal) : "third time lucky";
      })
      .catch((e: unknown) => e);
    await clock.advance(1_000);
    assert.equal(await outcome, "third time lucky");
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(timeouts, 2);
    assert.equal(new Set(signals).size, 3, "a fresh timeout signal per attempt");
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true, true, false],
    );
  });

  test("pipeline(timeout, retry): one timeout around all the retries", async () => {
    const clock = new FakeClock();
    const policy = pipeline(timeout(50, { clock }), retry({ clock, maxAttempts: 100, backoff: { kind: "constant", baseDelayMs: 20, jitter: "none" } }));
    let calls = 0;
    const outcome = policy
      .execute(() => {
        calls++;
        throw transientError("flaky");
      })
      .catch((e: unknown) => e);
    await clock.advance(1_000);
    assert.ok((await outcome) instanceof TimeoutError);
    assert.equal(calls, 3, "calls at 0, 20 and 40 ms, then the timeout ends the sleep");
    assert.equal(clock.pending, 0);
  });

  test("the caller's signal reaches the innermost call", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error("shutdown");
    let seen: AbortSignal | undefined;
    const outcome = wrap(retry({ clock }), timeout(10_000, { clock }))
      .execute(({ signal }) => {
        seen = signal;
        return untilAborted(signal);
      }, controller.signal)
      .catch((e: unknown) => e);
    await clock.advance(1);
    controller.abort(reason);
    assert.equal(await outcome, reason);
    assert.equal(seen?.reason, reason);
    assert.equal(clock.pending, 0);
  });

  test("a fallback outside a retry answers when retries run out; its value widens the result type", async () => {
    const clock = new FakeClock();
    const policy = pipeline(fallback(null), retry({ clock, backoff: { jitter: "none" } }));
    let calls = 0;
    const outcome = policy.execute(({ attempt }): number => {
      calls++;
      throw transientError(`attempt ${attempt}`);
    });
    await clock.advance(10_000);
    const value: number | null = await outcome;
    assert.equal(value, null);
    assert.equal(calls, 3);
    await assert.rejects(
      pipeline(retry({ clock }), fallback("never", { handle: { kinds: ["transient"] } })).execute(() => Promise.reject(permanentError("bad"))),
      { message: "bad" },
    );
  });

  test("an empty pipeline and nested pipelines work", async () => {
    assert.equal(await pipeline().execute(({ signal }) => (signal.aborted ? "aborted" : "ran")), "ran");
    const clock = new FakeClock();
    const nested = pipeline(pipeline(retry({ clock }), noopPolicy), timeout(100, { clock }));
    assert.equal(await nested.execute(({ attempt }) => attempt), 1);
  });

  test("the context type is the intersection of the members' contexts", () => {
    const clock = new FakeClock();
    const policy = pipeline(retry({ clock }), timeout(10, { clock }));
    // Type-level only; never run.
    const compileOnly = (): void => {
      void policy.execute(({ attempt, signal }) => attempt + (signal.aborted ? 1 : 0));
      // @ts-expect-error -- no policy in this pipeline adds `tenant` to the context
      void policy.execute(({ tenant }) => tenant);
      // @ts-expect-error -- a pipeline without retry has no `attempt`
      void pipeline(timeout(10, { clock })).execute(({ attempt }) => attempt);
    };
    assert.equal(typeof compileOnly, "function");
  });
});
