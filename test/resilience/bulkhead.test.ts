import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { BulkheadRejectedError, bulkhead } from "../../src/resilience/bulkhead.js";
import { FakeClock } from "../../src/resilience/fake-clock.js";

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("bulkhead", () => {
  test("runs at most maxConcurrent at once and refuses beyond the queue", async () => {
    const policy = bulkhead({ maxConcurrent: 2, maxQueue: 1, clock: new FakeClock() });
    const rejections: string[] = [];
    policy.onReject.on((e) => rejections.push(e.code));
    const g = gate();
    let running = 0;
    let peak = 0;
    const work = async (): Promise<number> => {
      running++;
      peak = Math.max(peak, running);
      await g.promise;
      running--;
      return 1;
    };
    const calls = [policy.execute(work), policy.execute(work), policy.execute(work)];
    assert.equal(policy.executing, 2);
    assert.equal(policy.queued, 1);
    const refused = await policy.execute(work).catch((e: unknown) => e);
    assert.ok(refused instanceof BulkheadRejectedError);
    assert.ok(refused instanceof JunctionError);
    assert.equal(refused.kind, "transient");
    assert.equal(refused.code, "bulkhead.full");
    assert.deepEqual(rejections, ["bulkhead.full"]);
    g.open();
    assert.deepEqual(await Promise.all(calls), [1, 1, 1]);
    assert.equal(peak, 2);
    assert.equal(policy.executing, 0);
    assert.equal(policy.queued, 0);
  });

  test("maxQueue 0 (the default) refuses as soon as every slot is taken", async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    const g = gate();
    const first = policy.execute(() => g.promise);
    await assert.rejects(policy.execute(() => undefined), (e: unknown) => e instanceof BulkheadRejectedError && e.code === "bulkhead.full");
    g.open();
    await first;
    assert.equal(await policy.execute(() => "free again"), "free again");
  });

  test("queued calls start in FIFO order, and newcomers cannot jump the queue", async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, gate);
    const calls = gates.map((g, i) =>
      policy.execute(async () => {
        order.push(i);
        await g.promise;
      }),
    );
    for (const g of gates) {
      g.open();
      await flush();
    }
    await Promise.all(calls);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);

    const g = gate();
    const running = policy.execute(() => g.promise);
    const queued = policy.execute(() => order.push(100));
    // releasing hands the slot to the queued call; a call arriving right after must wait behind it
    const late = running.then(() => {
      assert.equal(policy.executing, 1, "the slot went straight to the waiter");
      return policy.execute(() => order.push(200));
    });
    g.open();
    await Promise.all([running, queued, late]);
    assert.deepEqual(order.slice(6), [100, 200]);
  });

  test("a slot is released when the function throws, sync or async", async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    await assert.rejects(
      policy.execute(() => {
        throw new Error("sync");
      }),
      /sync/,
    );
    await assert.rejects(policy.execute(() => Promise.reject(new Error("async"))), /async/);
    assert.equal(policy.executing, 0);
    assert.equal(await policy.execute(() => 3), 3);
  });

  test("queued calls give up after queueTimeoutMs with bulkhead.queue_timeout", async () => {
    const clock = new FakeClock();
    const before = timeouts();
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 2, queueTimeoutMs: 100, clock });
    const rejections: string[] = [];
    policy.onReject.on((e) => rejections.push(e.code));
    const g = gate();
    const running = policy.execute(() => g.promise);
    let ran = false;
    const waiting = policy.execute(() => {
      ran = true;
    });
    const outcome = waiting.catch((e: unknown) => e);
    await clock.advance(50);
    const second = policy.execute(() => "second");
    await clock.advance(50);
    const error = await outcome;
    assert.ok(error instanceof BulkheadRejectedError);
    assert.equal(error.code, "bulkhead.queue_timeout");
    assert.equal(error.kind, "transient");
    assert.equal(ran, false);
    assert.equal(policy.queued, 1);
    assert.deepEqual(rejections, ["bulkhead.queue_timeout"]);
    g.open();
    await running;
    assert.equal(await second, "second", "the second waiter got the slot before its own timeout");
    assert.equal(clock.pending, 0, "its timeout sleep was cancelled");
    assert.equal(timeouts(), before);
  });

  test("queue timeouts on the system clock leave no timer behind", async () => {
    const before = timeouts();
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 60_000 });
    const g = gate();
    const calls = [policy.execute(() => g.promise), policy.execute(() => 1), policy.execute(() => 2)];
    assert.equal(timeouts(), before + 2);
    g.open();
    await Promise.all(calls);
    assert.equal(timeouts(), before);
  });

  test("aborting a queued call takes it out of the queue and rejects with the abort reason", async () => {
    const clock = new FakeClock();
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 3, queueTimeoutMs: 1000, clock });
    const g = gate();
    const running = policy.execute(() => g.promise);
    const controller = new AbortController();
    let ran = false;
    const aborted = policy.execute(() => {
      ran = true;
    }, controller.signal);
    const after = policy.execute(() => "after");
    assert.equal(policy.queued, 2);
    const reason = new Error("user cancelled");
    controller.abort(reason);
    await assert.rejects(aborted, (e: unknown) => e === reason);
    assert.equal(policy.queued, 1);
    assert.equal(clock.pending, 1, "the aborted waiter's timeout is gone");
    g.open();
    await running;
    assert.equal(await after, "after");
    assert.equal(ran, false);
    assert.equal(clock.pending, 0);
    await assert.rejects(policy.execute(() => 1, controller.signal), (e: unknown) => e === reason, "an already aborted signal is refused at once");
  });

  test("bad options are config errors", () => {
    assert.throws(() => bulkhead({ maxConcurrent: 0 }), (e: unknown) => e instanceof JunctionError && e.kind === "config");
    assert.throws(() => bulkhead({ maxConcurrent: 1, maxQueue: -1 }), /maxQueue/);
  });
});
