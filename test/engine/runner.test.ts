import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { permanentError, transientError } from "../../src/core/errors.js";
import { createMessage } from "../../src/core/message.js";
import { SecretRedactor } from "../../src/core/redact.js";
import { IntegrationRunner } from "../../src/engine/runner.js";
import type { RunnerDeps } from "../../src/engine/runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { openStateStore } from "../../src/state/open.js";
import type { StateStore } from "../../src/state/types.js";
import { buildTransforms } from "../../src/transform/pipeline.js";
import { ArraySource, RecordingSink, numberedBatches, testIntegration } from "../support/engine-fixtures.js";

let state: StateStore;
before(async () => {
  state = await openStateStore("sqlite::memory:");
});
after(async () => {
  await state.close();
});

function runner(overrides: Partial<RunnerDeps>): IntegrationRunner {
  return new IntegrationRunner({
    integration: testIntegration(),
    source: new ArraySource([]),
    sink: new RecordingSink(),
    transforms: [],
    state,
    logger: createLogger({ level: "silent" }),
    metrics: new JunctionMetrics({ defaultMetrics: false }),
    redactor: new SecretRedactor(),
    ...overrides,
  });
}

function signals(): { stop: AbortController; abort: AbortController; options: { trigger: string; stop: AbortSignal; abort: AbortSignal } } {
  const stop = new AbortController();
  const abort = new AbortController();
  return { stop, abort, options: { trigger: "once", stop: stop.signal, abort: abort.signal } };
}

describe("IntegrationRunner", () => {
  test("writes every message and acknowledges every batch in order", async () => {
    const source = new ArraySource(numberedBatches(20, 7));
    const sink = new RecordingSink();
    sink.delayMs = (_m, call) => (call % 3 === 0 ? 15 : 1); // later writes overtake earlier ones
    const integration = testIntegration({ name: "in-order", concurrency: 4 });
    const summary = await runner({ integration, source, sink }).run(signals().options);
    assert.equal(summary.status, "succeeded");
    assert.equal(sink.accepted.size, 140);
    assert.deepEqual(source.acked, [...Array(20).keys()]);
    assert.equal(summary.run.counts.read, 140);
    assert.equal(summary.run.counts.written, 140);
  });

  test("retries only the failed messages, then dead-letters permanent and exhausted ones", async () => {
    const source = new ArraySource(numberedBatches(1, 10));
    const sink = new RecordingSink((message, call) => {
      const n = (message.payload as { n: number }).n;
      if (n === 3) return permanentError("row 3 violates a constraint");
      if (n === 5 && call < 2) return transientError("busy");
      if (n === 7) return transientError("always busy");
      return undefined;
    });
    const integration = testIntegration({ name: "partial" });
    const summary = await runner({ integration, source, sink }).run(signals().options);
    assert.equal(summary.status, "partial");
    assert.equal(sink.calls[0]?.length, 10);
    assert.deepEqual(sink.calls[1], ["m5", "m7"], "the retry carries only the transient failures");
    assert.deepEqual(sink.calls[2], ["m5", "m7"]);
    assert.equal(sink.calls.length, 3, "attempts: 3 means three calls at most");
    assert.equal(summary.run.counts.written, 8);
    assert.equal(summary.run.counts.deadLettered, 2);
    assert.equal(summary.run.counts.retried, 4);
    const letters = await state.listDeadLetters({ integration: "partial" });
    const byId = new Map(letters.map((l) => [l.message.id, l]));
    assert.equal(byId.get("m3")?.attempts, 1);
    assert.equal(byId.get("m3")?.error.kind, "permanent");
    assert.equal(byId.get("m7")?.attempts, 3);
    assert.equal(byId.get("m7")?.error.kind, "transient");
    assert.deepEqual(source.acked, [0]);
  });

  test("a failing transform dead-letters the original message with the reason", async () => {
    const source = new ArraySource([[createMessage({ id: "good", payload: { amount: "12.50" } }), createMessage({ id: "bad", payload: { amount: "12,50" } })]]);
    const sink = new RecordingSink();
    const transforms = buildTransforms([{ type: "map", value: '{ "amount": $number(amount) }' }], { baseDir: "." });
    const integration = testIntegration({ name: "mapping" });
    const summary = await runner({ integration, source, sink, transforms }).run(signals().options);
    assert.equal(summary.run.counts.written, 1);
    assert.equal(summary.run.counts.deadLettered, 1);
    const [letter] = await state.listDeadLetters({ integration: "mapping" });
    assert.equal(letter?.stage, "transform");
    assert.deepEqual(letter?.message.payload, { amount: "12,50" });
    assert.match(letter?.error.message ?? "", /map/);
    assert.deepEqual(source.acked, [0]);
  });

  test("filtered messages are settled and counted", async () => {
    const source = new ArraySource(numberedBatches(2, 5));
    const sink = new RecordingSink();
    const transforms = buildTransforms([{ type: "filter", value: "n % 2 = 0" }], { baseDir: "." });
    const summary = await runner({ integration: testIntegration({ name: "filtering" }), source, sink, transforms }).run(signals().options);
    assert.equal(summary.run.counts.filtered, 5);
    assert.equal(summary.run.counts.written, 5);
    assert.deepEqual(source.acked, [0, 1]);
  });

  test('on_error "fail" stops the run without acknowledging the failed batch', async () => {
    const source = new ArraySource(numberedBatches(3, 4));
    const sink = new RecordingSink((message) => ((message.payload as { n: number }).n === 6 ? permanentError("bad row") : undefined));
    const integration = testIntegration({ name: "strict", onError: "fail", concurrency: 1, batching: { count: 4, bytes: 1 << 20, periodMs: 10 } });
    const summary = await runner({ integration, source, sink }).run(signals().options);
    assert.equal(summary.status, "failed");
    assert.match(summary.error ?? "", /bad row/);
    assert.ok(!source.acked.includes(1), "the batch holding the failed message is not acknowledged");
    assert.ok(source.nacked.includes(1));
  });

  test("pulls lazily: unacknowledged batches stay bounded while the sink is slow", async () => {
    const source = new ArraySource(numberedBatches(200, 10));
    const sink = new RecordingSink();
    let maxAhead = 0;
    sink.delayMs = () => {
      maxAhead = Math.max(maxAhead, source.pulled - source.acked.length);
      return 2;
    };
    const integration = testIntegration({ name: "backpressure", concurrency: 2 });
    const summary = await runner({ integration, source, sink }).run(signals().options);
    assert.equal(summary.run.counts.written, 2000);
    assert.ok(maxAhead <= 2 * 4 + 4 + 2, `at most a bounded number of batches in flight, saw ${maxAhead}`);
  });

  test("two versions of one key are written in source order even with concurrent writes", async () => {
    const first = createMessage({ id: "v1", key: "user-1", payload: { version: 1 } });
    const second = createMessage({ id: "v2", key: "user-1", payload: { version: 2 } });
    const source = new ArraySource([[first], [second]]);
    const sink = new RecordingSink();
    sink.delayMs = (messages) => (messages[0]?.id === "v1" ? 30 : 0);
    const integration = testIntegration({ name: "ordering", concurrency: 4, batching: { count: 1, bytes: 1 << 20, periodMs: 1 } });
    await runner({ integration, source, sink }).run(signals().options);
    assert.deepEqual(sink.accepted.get("user-1"), { version: 2 });
  });

  test("a graceful stop leaves unsettled batches unacknowledged (they will be delivered again)", async () => {
    const source = new ArraySource(numberedBatches(50, 10));
    const sink = new RecordingSink(() => transientError("down"));
    const integration = testIntegration({
      name: "draining",
      resilience: { retry: { attempts: 100, backoff: "constant", baseDelayMs: 20, maxDelayMs: 20, jitter: "none" }, timeoutMs: 0, timeoutStrategy: "cooperative" },
    });
    const s = signals();
    setTimeout(() => s.stop.abort(), 50);
    const summary = await runner({ integration, source, sink }).run(s.options);
    assert.equal(summary.status, "interrupted");
    assert.deepEqual(source.acked, []);
    assert.ok(source.nacked.length > 0);
    assert.equal(await state.countDeadLetters({ integration: "draining" }), 0, "a shutdown never dead-letters");
  });

  test("flushes a partial sink batch when its period ends", async () => {
    const source = new ArraySource(numberedBatches(3, 2));
    const sink = new RecordingSink();
    const integration = testIntegration({ name: "period", batching: { count: 1000, bytes: 1 << 20, periodMs: 5 } });
    const summary = await runner({ integration, source, sink }).run(signals().options);
    assert.equal(summary.run.counts.written, 6);
    assert.deepEqual(source.acked, [0, 1, 2]);
  });
});
