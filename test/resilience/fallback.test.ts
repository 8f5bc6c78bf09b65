import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { permanentError, transientError } from "../../src/core/errors.js";
import { fallback } from "../../src/resilience/fallback.js";

describe("fallback", () => {
  test("passes a success through and replaces a failure with the value", async () => {
    const policy = fallback("cached");
    assert.equal(await policy.execute(() => "fresh"), "fresh");
    assert.equal(
      await policy.execute(() => {
        throw new Error("down");
      }),
      "cached",
    );
  });

  test("computes the value from the error, sync or async, and reports it", async () => {
    const policy = fallback(async (error) => `degraded: ${(error as Error).message}`);
    const events: Array<{ error: unknown }> = [];
    policy.onFallback.on((e) => events.push(e));
    const error = new Error("down");
    assert.equal(await policy.execute(() => Promise.reject(error)), "degraded: down");
    assert.deepEqual(events, [{ error }]);
  });

  test("handle limits which failures are replaced", async () => {
    const policy = fallback(0, { handle: { kinds: ["transient"] } });
    assert.equal(await policy.execute(() => Promise.reject(transientError("blip"))), 0);
    const permanent = permanentError("bad input");
    await assert.rejects(
      policy.execute(() => Promise.reject(permanent)),
      (e) => e === permanent,
    );
  });

  test("the caller's own abort is not hidden", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await assert.rejects(
      fallback("x").execute(({ signal }) => Promise.reject(signal.reason), controller.signal),
      { message: "stop" },
    );
  });
});
