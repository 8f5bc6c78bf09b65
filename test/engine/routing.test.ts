import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Batch, MessageSettlement, Source, WriteOptions, WriteOutcome } from "../../src/connectors/types.js";
import { permanentError, transientError } from "../../src/core/errors.js";
import { createMessage } from "../../src/core/message.js";
import type { Message } from "../../src/core/message.js";
import { SecretRedactor } from "../../src/core/redact.js";
import type { IntegrationConfig } from "../../src/config/model.js";
import { IntegrationRunner } from "../../src/engine/runner.js";
import type { RunSummary, TargetSink } from "../../src/engine/runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { openStateStore } from "../../src/state/open.js";
import type { StateStore } from "../../src/state/types.js";
import { buildTransforms } from "../../src/transform/pipeline.js";
import type { Transform } from "../../src/transform/types.js";
import { ArraySource, RecordingSink, numberedBatches, testIntegration, testTarget } from "../support/engine-fixtures.js";

let state: StateStore;
before(async () => {
  state = await openStateStore("sqlite::memory:");
});
after(async () => {
  await state.close();
});

let runs = 0;
/** A unique integration name, so dead letters of one test never show up in another. */
function uniqueName(what: string): string {
  return `${what}-${process.pid}-${++runs}`;
}

async function run(integration: IntegrationConfig, source: Source, sinks: RecordingSink[], options: { metrics?: JunctionMetrics; transforms?: Transform[] } = {}): Promise<RunSummary> {
  const runner = new IntegrationRunner({
    integration,
    source,
    targets: sinks.map((sink): TargetSink => ({ sink })),
    transforms: options.transforms ?? [],
    state,
    logger: createLogger({ level: "silent" }),
    metrics: options.metrics ?? new JunctionMetrics({ defaultMetrics: false }),
    redactor: new SecretRedactor(),
  });
  const stop = new AbortController();
  return runner.run({ trigger: "once", stop: stop.signal, abort: new AbortController().signal });
}

function fanOut(name: string, targets: IntegrationConfig["targets"], overrides: Partial<IntegrationConfig> = {}): IntegrationConfig {
  return testIntegration({ name: uniqueName(name), routing: "fan_out", targets, ...overrides });
}

function switchOf(name: string, targets: IntegrationConfig["targets"], overrides: Partial<IntegrationConfig> = {}): IntegrationConfig {
  return testIntegration({ name: uniqueName(name), routing: "switch", targets, ...overrides });
}

const n = (message: Message): number => (message.payload as { n: number }).n;

/** Records the lifecycle calls and the checkpoint offered with each write. */
class LifecycleSink extends RecordingSink {
  readonly lifecycle: string[] = [];
  readonly offered: unknown[] = [];

  async begin(): Promise<void> {
    this.lifecycle.push("begin");
  }

  override async write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome> {
    this.offered.push(options?.checkpoint);
    return super.write(messages, signal);
  }

  async complete(): Promise<void> {
    this.lifecycle.push("complete");
  }

  async close(): Promise<void> {
    this.lifecycle.push("close");
  }
}

describe("fan-out to several targets", () => {
  test("every target gets every message; each source batch is acknowledged once, in order", async () => {
    const source = new ArraySource(numberedBatches(10, 7));
    const warehouse = new RecordingSink();
    const audit = new RecordingSink();
    warehouse.delayMs = (_m, call) => (call % 3 === 0 ? 10 : 1);
    const integration = fanOut("fan-all", [testTarget("warehouse"), testTarget("audit")], { concurrency: 3 });
    const summary = await run(integration, source, [warehouse, audit]);
    assert.equal(summary.status, "succeeded", summary.error);
    assert.equal(warehouse.accepted.size, 70);
    assert.equal(audit.accepted.size, 70);
    assert.deepEqual(source.acked, [...Array(10).keys()]);
    assert.equal(summary.run.counts.read, 70);
    assert.equal(summary.run.counts.written, 140, "written counts one write per target");
  });

  test("a message failing permanently at one target is dead-lettered for that target only; the other target has it, the batch is acked once", async () => {
    const source = new ArraySource(numberedBatches(2, 5));
    const warehouse = new RecordingSink((message) => (n(message) === 3 ? permanentError("row 3 violates a constraint") : undefined));
    const audit = new RecordingSink();
    const integration = fanOut("fan-permanent", [testTarget("warehouse"), testTarget("audit")]);
    const summary = await run(integration, source, [warehouse, audit]);
    assert.equal(summary.status, "partial");
    assert.equal(audit.accepted.size, 10, "the other target got every message, the failed one included");
    assert.ok(audit.accepted.has("k3"));
    assert.equal(warehouse.accepted.size, 9);
    assert.deepEqual(source.acked, [0, 1]);
    assert.deepEqual(source.nacked, []);
    const letters = await state.listDeadLetters({ integration: integration.name });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.stage, "sink:warehouse");
    assert.equal(letters[0]?.message.id, "m3");
    assert.equal(summary.run.counts.deadLettered, 1);
    assert.equal(summary.run.counts.written, 19);
  });

  test("a target failing transiently is retried on its own, and nothing is dead-lettered", async () => {
    const source = new ArraySource(numberedBatches(3, 4));
    let failuresLeft = 2;
    const flaky = new RecordingSink((message) => (n(message) === 6 && failuresLeft-- > 0 ? transientError("busy") : undefined));
    const steady = new RecordingSink();
    const integration = fanOut("fan-transient", [testTarget("flaky"), testTarget("steady")]);
    const summary = await run(integration, source, [flaky, steady]);
    assert.equal(summary.status, "succeeded", summary.error);
    assert.equal(flaky.accepted.size, 12);
    assert.equal(steady.accepted.size, 12);
    assert.equal(summary.run.counts.retried, 2);
    assert.equal(await state.countDeadLetters({ integration: integration.name }), 0);
    assert.equal(steady.calls.flat().filter((id) => id === "m6").length, 1, "the healthy target wrote m6 once");
    assert.deepEqual(source.acked, [0, 1, 2]);
  });

  test("a target with a when gets only the messages it holds for; metrics are labelled per target", async () => {
    const source = new ArraySource(numberedBatches(2, 5));
    const all = new RecordingSink();
    const big = new RecordingSink();
    const metrics = new JunctionMetrics({ defaultMetrics: false });
    const integration = fanOut("fan-when", [testTarget("all"), testTarget("big", "n > 7")]);
    const summary = await run(integration, source, [all, big], { metrics });
    assert.equal(all.accepted.size, 10);
    assert.deepEqual([...big.accepted.keys()].sort(), ["k10", "k8", "k9"]);
    assert.equal(summary.run.counts.written, 13);
    const exposition = await metrics.metrics();
    assert.match(exposition, new RegExp(`junction_messages_total\\{integration="${integration.name}",stage="sink:big",outcome="ok"\\} 3`));
    assert.match(exposition, new RegExp(`junction_messages_total\\{integration="${integration.name}",stage="sink:all",outcome="ok"\\} 10`));
  });

  test("messages no target's when holds for are counted as filtered and settled", async () => {
    const source = new ArraySource(numberedBatches(1, 6));
    const odd = new RecordingSink();
    const big = new RecordingSink();
    const integration = fanOut("fan-unmatched", [testTarget("odd", "n % 2 = 1"), testTarget("big", "n > 4")]);
    const summary = await run(integration, source, [odd, big]);
    assert.deepEqual([...odd.accepted.keys()].sort(), ["k1", "k3", "k5"]);
    assert.deepEqual([...big.accepted.keys()].sort(), ["k5", "k6"]);
    assert.equal(summary.run.counts.filtered, 2, "2 and 4 went nowhere");
    assert.equal(summary.status, "succeeded");
    assert.deepEqual(source.acked, [0]);
  });

  test("begin, complete and close are called for every target; no checkpoint is offered with several", async () => {
    const source = new ArraySource(numberedBatches(2, 3));
    const first = new LifecycleSink();
    const second = new LifecycleSink();
    const summary = await run(fanOut("fan-lifecycle", [testTarget("first"), testTarget("second")]), source, [first, second]);
    assert.equal(summary.status, "succeeded");
    for (const sink of [first, second]) {
      assert.deepEqual(sink.lifecycle, ["begin", "complete", "close"]);
      assert.ok(sink.offered.length > 0 && sink.offered.every((offer) => offer === undefined));
    }
  });

  test("the transforms run once per message, before routing", async () => {
    const source = new ArraySource(numberedBatches(1, 4));
    const first = new RecordingSink();
    const second = new RecordingSink();
    const integration = fanOut("fan-transform", [testTarget("first"), testTarget("second", "doubled > 4")]);
    let applied = 0;
    const counting: Transform = {
      name: "count",
      async apply(message) {
        applied++;
        return message;
      },
    };
    await run(integration, source, [first, second], { transforms: [...buildTransforms([{ type: "map", value: '{ "doubled": n * 2 }' }], { baseDir: "." }), counting] });
    assert.equal(applied, 4);
    assert.deepEqual([...first.accepted.values()], [{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }, { doubled: 8 }]);
    assert.deepEqual([...second.accepted.values()], [{ doubled: 6 }, { doubled: 8 }]);
  });

  test("per-key order holds per target with concurrent writes", async () => {
    const versions = [1, 2, 3].map((version) => createMessage({ id: `v${version}`, key: "user-1", payload: { version } }));
    const source = new ArraySource(versions.map((message) => [message]));
    const slowFirst = new RecordingSink();
    slowFirst.delayMs = (messages) => (messages[0]?.id === "v1" ? 40 : 0);
    const slowSecond = new RecordingSink();
    slowSecond.delayMs = (messages) => (messages[0]?.id === "v2" ? 40 : 0);
    const integration = fanOut("fan-order", [testTarget("a"), testTarget("b")], { concurrency: 4, batching: { count: 1, bytes: 1 << 20, periodMs: 1 } });
    const summary = await run(integration, source, [slowFirst, slowSecond]);
    assert.equal(summary.status, "succeeded");
    assert.deepEqual(slowFirst.accepted.get("user-1"), { version: 3 });
    assert.deepEqual(slowSecond.accepted.get("user-1"), { version: 3 });
    assert.deepEqual(slowFirst.calls.flat(), ["v1", "v2", "v3"]);
    assert.deepEqual(slowSecond.calls.flat(), ["v1", "v2", "v3"]);
  });

  test("a target that keeps failing holds the others back only within the backpressure bounds", async () => {
    const source = new ArraySource(numberedBatches(100, 5));
    const down = new RecordingSink(() => transientError("down"));
    const healthy = new RecordingSink();
    let maxAhead = 0;
    healthy.delayMs = () => {
      maxAhead = Math.max(maxAhead, source.pulled - source.acked.length);
      return 0;
    };
    const integration = fanOut("fan-bounded", [testTarget("down", undefined, { retry: { attempts: 1000, backoff: "constant", baseDelayMs: 5, maxDelayMs: 5, jitter: "none" } }), testTarget("healthy")], {
      concurrency: 2,
      batching: { count: 5, bytes: 1 << 20, periodMs: 5 },
    });
    const runner = new IntegrationRunner({
      integration,
      source,
      targets: [{ sink: down }, { sink: healthy }],
      transforms: [],
      state,
      logger: createLogger({ level: "silent" }),
      metrics: new JunctionMetrics({ defaultMetrics: false }),
      redactor: new SecretRedactor(),
    });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 150);
    const summary = await runner.run({ trigger: "once", stop: stop.signal, abort: new AbortController().signal });
    assert.equal(summary.status, "interrupted");
    assert.ok(healthy.accepted.size >= 10, `the healthy target went on writing (${healthy.accepted.size})`);
    assert.ok(source.pulled <= 2 * 4 + 4 + 2, `source batches pulled stay bounded, saw ${source.pulled}`);
    assert.ok(maxAhead <= 2 * 4 + 4 + 2);
    assert.deepEqual(source.acked, [], "nothing is acknowledged while a target has not settled it");
    assert.equal(await state.countDeadLetters({ integration: integration.name }), 0);
  });

  test("with a broker source, a message failing at one of several targets goes to the state store, never back to the broker", async () => {
    const requeued: string[] = [];
    const settlement: MessageSettlement = {
      async requeue(message) {
        requeued.push(message.id);
        return "requeued";
      },
    };
    const messages = numberedBatches(1, 4)[0] as Message[];
    const acked: number[] = [];
    const source: Source = {
      async *batches(): AsyncIterable<Batch> {
        yield { messages, settlement, ack: async () => void acked.push(0), nack: async () => undefined };
      },
    };
    const failing = new RecordingSink((message) => (n(message) === 2 ? transientError("still busy") : undefined));
    const fine = new RecordingSink();
    const integration = fanOut("fan-broker", [testTarget("failing"), testTarget("fine")]);
    const summary = await run(integration, source, [failing, fine]);
    assert.deepEqual(requeued, [], "a requeue would deliver it to every target again");
    assert.equal(fine.accepted.size, 4);
    const letters = await state.listDeadLetters({ integration: integration.name });
    assert.deepEqual(letters.map((l) => [l.message.id, l.stage]), [["m2", "sink:failing"]]);
    assert.equal(summary.run.counts.deadLettered, 1);
    assert.deepEqual(acked, [0]);
  });
});

describe("switch", () => {
  const typed = (type: string, id: string): Message => createMessage({ id, key: id, payload: { type, id } });

  test("routes each message to the first case whose when holds, the rest to the default", async () => {
    const source = new ArraySource([[typed("order.created", "a"), typed("order.cancelled", "b"), typed("order.created", "c"), typed("other", "d")]]);
    const orders = new RecordingSink();
    const cancellations = new RecordingSink();
    const others = new RecordingSink();
    const integration = switchOf("switch-default", [
      testTarget("orders", "type = 'order.created'"),
      testTarget("cancellations", "type = 'order.cancelled' or type = 'order.created'"),
      testTarget("others"),
    ]);
    const summary = await run(integration, source, [orders, cancellations, others]);
    assert.equal(summary.status, "succeeded");
    assert.deepEqual([...orders.accepted.keys()], ["a", "c"]);
    assert.deepEqual([...cancellations.accepted.keys()], ["b"], "only the first matching case gets a message");
    assert.deepEqual([...others.accepted.keys()], ["d"]);
    assert.equal(summary.run.counts.written, 4);
  });

  test("without a default, unmatched messages are counted as filtered and acknowledged", async () => {
    const source = new ArraySource([[typed("order.created", "a"), typed("other", "b"), typed("other", "c")]]);
    const orders = new RecordingSink();
    const integration = switchOf("switch-unmatched", [testTarget("orders", "type = 'order.created'")]);
    const summary = await run(integration, source, [orders]);
    assert.equal(summary.status, "succeeded");
    assert.deepEqual([...orders.accepted.keys()], ["a"]);
    assert.equal(summary.run.counts.filtered, 2);
    assert.deepEqual(source.acked, [0]);
  });

  test("a when that fails to evaluate dead-letters the message at stage route; the others flow", async () => {
    const good = createMessage({ id: "good", key: "good", payload: { amount: 5 } });
    const bad = createMessage({ id: "bad", key: "bad", payload: { amount: "lots" } });
    const source = new ArraySource([[good, bad]]);
    const big = new RecordingSink();
    const rest = new RecordingSink();
    const integration = switchOf("switch-route-error", [testTarget("big", "amount > 1000"), testTarget("rest")]);
    const summary = await run(integration, source, [big, rest]);
    assert.equal(summary.status, "partial");
    assert.deepEqual([...rest.accepted.keys()], ["good"]);
    assert.equal(big.accepted.size, 0);
    const letters = await state.listDeadLetters({ integration: integration.name });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.stage, "route");
    assert.equal(letters[0]?.message.id, "bad");
    assert.match(letters[0]?.error.message ?? "", /when condition of target "big" failed/);
    assert.deepEqual(source.acked, [0]);
  });

  test("a failure at a case's target is dead-lettered with that target's stage", async () => {
    const source = new ArraySource([[typed("order.created", "a"), typed("other", "b")]]);
    const orders = new RecordingSink(() => permanentError("rejected"));
    const others = new RecordingSink();
    const integration = switchOf("switch-sink-error", [testTarget("orders", "type = 'order.created'"), testTarget("others")]);
    await run(integration, source, [orders, others]);
    const letters = await state.listDeadLetters({ integration: integration.name });
    assert.deepEqual(letters.map((l) => [l.message.id, l.stage]), [["a", "sink:orders"]]);
    assert.deepEqual([...others.accepted.keys()], ["b"]);
  });
});

describe("one target", () => {
  test("a single target keeps stage sink and is offered the checkpoint", async () => {
    const messages = numberedBatches(1, 3)[0] as Message[];
    const source: Source = {
      async *batches(): AsyncIterable<Batch> {
        yield { messages, checkpoint: { through: 3 }, ack: async () => undefined, nack: async () => undefined };
      },
    };
    const sink = new LifecycleSink((message) => (n(message) === 2 ? permanentError("no") : undefined));
    const integration = testIntegration({ name: uniqueName("single") });
    const summary = await run(integration, source, [sink]);
    assert.equal(summary.run.counts.written, 2);
    const letters = await state.listDeadLetters({ integration: integration.name });
    assert.deepEqual(letters.map((l) => l.stage), ["sink"]);
    assert.deepEqual(sink.lifecycle, ["begin", "complete", "close"]);
    assert.deepEqual(sink.offered.at(-1), { scope: integration.name, value: { through: 3 } });
  });

  test("the runner refuses a number of sinks that does not match the targets", () => {
    assert.throws(
      () =>
        new IntegrationRunner({
          integration: fanOut("mismatch", [testTarget("a"), testTarget("b")]),
          source: new ArraySource([]),
          sink: new RecordingSink(),
          transforms: [],
          state,
          logger: createLogger({ level: "silent" }),
          metrics: new JunctionMetrics({ defaultMetrics: false }),
          redactor: new SecretRedactor(),
        }),
      /has 2 target\(s\) but was given 1 sink/,
    );
  });
});
