import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../src/resilience/fake-clock.js";
import { hedge } from "../../src/resilience/hedge.js";
import type { HedgeEvent } from "../../src/resilience/hedge.js";

interface Plan {
  ms: number;
  value?: string;
  error?: Error;
}

/** Executes under a hedge on a FakeClock; call n follows plans[n]. Returns the outcome, each call's signal and start time. */
async function run(plans: Plan[], options: { delayMs: number; maxHedges?: number }, advanceMs = 10_000) {
  const clock = new FakeClock();
  const policy = hedge({ ...options, clock });
  const hedges: HedgeEvent[] = [];
  policy.onHedge.on((e) => hedges.push(e));
  const signals: AbortSignal[] = [];
  const startedAt: number[] = [];
  const outcome = policy
    .execute(async ({ signal }) => {
      const plan = plans[signals.length] as Plan;
      signals.push(signal);
      startedAt.push(clock.now());
      await clock.sleep(plan.ms, signal);
      if (plan.error) throw plan.error;
      return plan.value as string;
    })
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  await clock.advance(advanceMs);
  return { outcome: await outcome, signals, startedAt, hedges, clock };
}

describe("hedge", () => {
  test("a call that is quick enough runs alone", async () => {
    const { outcome, signals, hedges, clock } = await run([{ ms: 50, value: "primary" }], { delayMs: 100 });
    assert.deepEqual(outcome, { ok: true, value: "primary" });
    assert.equal(signals.length, 1);
    assert.equal(signals[0]?.aborted, false);
    assert.deepEqual(hedges, []);
    assert.equal(clock.pending, 0, "the hedge timer was cancelled");
  });

  test("a slow call gets a hedge; the first success wins and the loser is aborted", async () => {
    const { outcome, signals, startedAt, hedges } = await run(
      [
        { ms: 500, value: "primary" },
        { ms: 50, value: "hedge" },
      ],
      { delayMs: 100 },
    );
    assert.deepEqual(outcome, { ok: true, value: "hedge" });
    assert.deepEqual(startedAt, [0, 100]);
    assert.equal(signals[0]?.aborted, true, "the slow primary is told to stop");
    assert.equal((signals[0]?.reason as Error).name, "AbortError");
    assert.equal(signals[1]?.aborted, false, "the winner's signal stays usable");
    assert.deepEqual(hedges, [{ hedge: 1, delayMs: 100 }]);
  });

  test("a failure does not win while another call may still succeed", async () => {
    const { outcome } = await run(
      [
        { ms: 150, error: new Error("primary broke") },
        { ms: 200, value: "hedge" },
      ],
      { delayMs: 100 },
    );
    assert.deepEqual(outcome, { ok: true, value: "hedge" });
  });

  test("when every call fails, the last error is thrown", async () => {
    const last = new Error("hedge broke too");
    const { outcome } = await run(
      [
        { ms: 150, error: new Error("primary broke") },
        { ms: 100, error: last },
      ],
      { delayMs: 100 },
    );
    assert.deepEqual(outcome, { ok: false, error: last });
  });

  test("a failure with nothing else running rejects without waiting for the next hedge", async () => {
    const first = new Error("fast failure");
    const { outcome, signals, clock } = await run([{ ms: 10, error: first }], { delayMs: 100, maxHedges: 3 }, 10);
    assert.deepEqual(outcome, { ok: false, error: first });
    assert.equal(signals.length, 1);
    assert.equal(clock.pending, 0);
  });

  test("maxHedges bounds the extra calls, each delayMs after the previous", async () => {
    const { outcome, startedAt, signals, hedges } = await run(
      [
        { ms: 1_000, value: "a" },
        { ms: 1_000, value: "b" },
        { ms: 150, value: "c" },
        { ms: 1, value: "never started" },
      ],
      { delayMs: 100, maxHedges: 2 },
    );
    assert.deepEqual(outcome, { ok: true, value: "c" });
    assert.deepEqual(startedAt, [0, 100, 200]);
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true, true, false],
    );
    assert.deepEqual(
      hedges.map((h) => h.hedge),
      [1, 2],
    );
  });

  test("the caller's abort stops every call and rejects at once", async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const signals: AbortSignal[] = [];
    const outcome = hedge({ delayMs: 100, clock })
      .execute(({ signal }) => {
        signals.push(signal);
        return clock.sleep(10_000, signal);
      }, controller.signal)
      .catch((e: unknown) => e);
    await clock.advance(150);
    controller.abort(reason);
    assert.equal(await outcome, reason);
    assert.deepEqual(
      signals.map((s) => s.reason),
      [reason, reason],
    );
    assert.equal(clock.pending, 0);
  });

  test("invalid options are config errors", () => {
    assert.throws(() => hedge({ delayMs: -1 }), { kind: "config" });
    assert.throws(() => hedge({ delayMs: 10, maxHedges: 1.5 }), { kind: "config" });
  });
});
