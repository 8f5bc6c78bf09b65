import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { transientError } from "../../src/core/errors.js";
import { createMessage } from "../../src/core/message.js";
import { SinkWriter } from "../../src/engine/sink-writer.js";
import { timeout } from "../../src/resilience/timeout.js";
import type { WorkItem } from "../../src/engine/work-item.js";
import { RecordingSink } from "../support/engine-fixtures.js";

function items(count: number): WorkItem[] {
  const owner = { batch: { messages: [], ack: async () => undefined, nack: async () => undefined }, remaining: count };
  return Array.from({ length: count }, (_, i) => {
    const message = createMessage({ id: `m${i}`, payload: { i } });
    return { original: message, message, owner };
  });
}

describe("SinkWriter", () => {
  test("waits at least as long as Retry-After asks, whatever the backoff says", async () => {
    const delays: number[] = [];
    const sink = new RecordingSink((_m, call) => (call === 0 ? transientError("slow down", { retryAfterMs: 40 }) : undefined));
    const writer = new SinkWriter(sink, { attempts: 3, backoff: "constant", baseDelayMs: 1, maxDelayMs: 2, jitter: "none" }, {
      written: () => undefined,
      failed: async () => assert.fail("nothing should fail"),
      retrying: (_count, delayMs) => delays.push(delayMs),
      observed: () => undefined,
    });
    const stop = new AbortController();
    await writer.write(items(2), { stop: stop.signal, abort: stop.signal });
    assert.deepEqual(delays, [40]);
    assert.equal(sink.calls.length, 2);
  });

  test("a timeout makes a hung write a transient failure and leaves no timer behind", async () => {
    const sink = { write: (_messages: unknown, signal: AbortSignal) => new Promise<never>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })) };
    const failed: string[] = [];
    const writer = new SinkWriter(sink, { attempts: 1, backoff: "constant", baseDelayMs: 1, maxDelayMs: 1, jitter: "none" }, {
      written: () => undefined,
      failed: async (_item, error) => {
        failed.push(String((error as Error).message));
      },
      retrying: () => undefined,
      observed: () => undefined,
    }, timeout(20));
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const stop = new AbortController();
    await writer.write(items(1), { stop: stop.signal, abort: stop.signal });
    assert.equal(failed.length, 1);
    assert.match(failed[0] ?? "", /did not finish within 20 ms/);
    const afterCount = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    assert.ok(afterCount <= before, `timers left behind: ${afterCount - before}`);
  });

  test("an abort during the backoff sleep returns without settling the rest", async () => {
    const sink = new RecordingSink(() => transientError("down"));
    const settled: string[] = [];
    const writer = new SinkWriter(sink, { attempts: 10, backoff: "constant", baseDelayMs: 10_000, maxDelayMs: 10_000, jitter: "none" }, {
      written: () => settled.push("written"),
      failed: async () => {
        settled.push("failed");
      },
      retrying: () => undefined,
      observed: () => undefined,
    });
    const stop = new AbortController();
    const started = Date.now();
    setTimeout(() => stop.abort(), 10);
    await writer.write(items(3), { stop: stop.signal, abort: new AbortController().signal });
    assert.deepEqual(settled, []);
    assert.ok(Date.now() - started < 5_000, "the 10 s backoff was cut short by the stop signal");
  });
});
