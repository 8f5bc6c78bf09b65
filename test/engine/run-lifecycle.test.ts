import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Batch, RecordSchema, SinkRunStart, SourceDescription, WriteOptions, WriteOutcome } from "../../src/connectors/types.js";
import { permanentError } from "../../src/core/errors.js";
import type { Message } from "../../src/core/message.js";
import { SecretRedactor } from "../../src/core/redact.js";
import { AckSequencer } from "../../src/engine/ack-sequencer.js";
import { IntegrationRunner } from "../../src/engine/runner.js";
import type { RunnerDeps } from "../../src/engine/runner.js";
import { createLogger } from "../../src/observability/logger.js";
import { JunctionMetrics } from "../../src/observability/metrics.js";
import { openStateStore } from "../../src/state/open.js";
import type { StateStore } from "../../src/state/types.js";
import { ArraySource, RecordingSink, numberedBatches, testIntegration } from "../support/engine-fixtures.js";

let state: StateStore;
before(async () => {
  state = await openStateStore("sqlite::memory:");
});
after(async () => {
  await state.close();
});

const SCHEMA: RecordSchema = { columns: [{ name: "n", type: { kind: "integer", bytes: 8 }, nullable: false }], key: ["n"] };

/** A source whose batches carry the checkpoint their ack stores, and which describes itself. */
class CheckpointedSource extends ArraySource {
  override async *batches(signal: AbortSignal): AsyncIterable<Batch> {
    let index = 0;
    for await (const batch of super.batches(signal)) yield { ...batch, checkpoint: { through: index++ } };
  }

  async describe(): Promise<SourceDescription> {
    return { schema: SCHEMA, estimatedCount: 50 };
  }
}

/** Records the lifecycle calls and the checkpoint offered with each write. */
class LifecycleSink extends RecordingSink {
  readonly lifecycle: string[] = [];
  readonly offered: Array<unknown> = [];
  started: SinkRunStart | undefined;

  async begin(run: SinkRunStart): Promise<void> {
    this.started = run;
    this.lifecycle.push("begin");
  }

  override async write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome> {
    this.offered.push(options?.checkpoint?.value);
    this.lifecycle.push("write");
    return super.write(messages, signal);
  }

  async complete(): Promise<void> {
    this.lifecycle.push("complete");
  }
}

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

function options(stop = new AbortController()): { trigger: string; stop: AbortSignal; abort: AbortSignal } {
  return { trigger: "once", stop: stop.signal, abort: new AbortController().signal };
}

describe("run lifecycle", () => {
  test("the sink is told the source's schema before the first write and completes after the last ack", async () => {
    const source = new CheckpointedSource(numberedBatches(5, 10));
    const sink = new LifecycleSink();
    const summary = await runner({ integration: testIntegration({ concurrency: 1 }), source, sink }).run(options());
    assert.equal(summary.status, "succeeded");
    assert.deepEqual(sink.started, { schema: SCHEMA });
    assert.equal(sink.lifecycle[0], "begin");
    assert.equal(sink.lifecycle.at(-1), "complete");
    assert.equal(sink.lifecycle.filter((call) => call === "complete").length, 1);
    assert.deepEqual(source.acked, [0, 1, 2, 3, 4]);
  });

  test("a failed run does not complete the sink", async () => {
    const source = new CheckpointedSource(numberedBatches(3, 10));
    const sink = new LifecycleSink((message) => ((message.payload as { n: number }).n === 15 ? permanentError("bad row") : undefined));
    const summary = await runner({ integration: testIntegration({ onError: "fail" }), source, sink }).run(options());
    assert.equal(summary.status, "failed");
    assert.ok(!sink.lifecycle.includes("complete"));
  });

  test("a stopped run does not complete the sink", async () => {
    const stop = new AbortController();
    const source = new CheckpointedSource(numberedBatches(50, 10));
    const sink = new LifecycleSink((_message, call) => {
      if (call === 2) stop.abort();
      return undefined;
    });
    const summary = await runner({ integration: testIntegration({ concurrency: 1 }), source, sink }).run(options(stop));
    assert.equal(summary.status, "interrupted");
    assert.ok(!sink.lifecycle.includes("complete"));
  });

  test("a failing begin fails the run before anything is read", async () => {
    const source = new CheckpointedSource(numberedBatches(3, 10));
    const sink = new LifecycleSink();
    sink.begin = async () => {
      throw permanentError("cannot create the table");
    };
    const summary = await runner({ source, sink }).run(options());
    assert.equal(summary.status, "failed");
    assert.match(summary.error ?? "", /cannot create the table/);
    assert.equal(source.pulled, 0);
  });

  test("each write is offered the checkpoint of the newest batch it finishes, counting from the oldest unacked one", async () => {
    const source = new CheckpointedSource(numberedBatches(5, 10));
    const sink = new LifecycleSink();
    const integration = testIntegration({ concurrency: 1, batching: { count: 25, bytes: 1 << 20, periodMs: 10_000 } });
    await runner({ integration, source, sink }).run(options());
    assert.deepEqual(sink.calls.map((ids) => ids.length), [25, 25]);
    // m1..m25 finish batches 0 and 1 (batch 2 is half written); m26..m50 finish 2, 3 and 4.
    assert.deepEqual(sink.offered, [{ through: 1 }, { through: 4 }]);
  });

  test("sources without checkpoints offer none", async () => {
    const sink = new LifecycleSink();
    await runner({ source: new ArraySource(numberedBatches(2, 10)), sink }).run(options());
    assert.deepEqual(sink.offered, [undefined, undefined]);
  });
});

describe("AckSequencer.completedBy", () => {
  const batch = (size: number): Batch => ({ messages: new Array<Message>(size), ack: async () => undefined, nack: async () => undefined });

  test("needs every pending message of the oldest batch, then counts forward while batches are finished", () => {
    const sequencer = new AckSequencer(() => undefined);
    const a = sequencer.track(batch(2));
    const b = sequencer.track(batch(2));
    const c = sequencer.track(batch(2));
    assert.equal(sequencer.completedBy([b, b]), undefined, "the oldest batch is not in the write");
    assert.equal(sequencer.completedBy([a]), undefined, "half of the oldest batch");
    assert.equal(sequencer.completedBy([a, a, b]), a);
    assert.equal(sequencer.completedBy([a, a, b, b, c, c]), c);
    sequencer.settle(b, 2);
    assert.equal(sequencer.completedBy([a, a]), b, "b is already settled, so finishing a finishes b too");
  });
});

describe("the source's schema reaches the sink only when the payloads keep its columns", () => {
  test("a filter or validate keeps it, a map or select drops it", async () => {
    const started = async (types: string[]): Promise<SinkRunStart | undefined> => {
      const sink = new LifecycleSink();
      const integration = testIntegration({ transforms: types.map((type) => ({ type, value: {} })) });
      await runner({ integration, source: new CheckpointedSource(numberedBatches(1, 1)), sink }).run(options());
      return sink.started;
    };
    assert.deepEqual(await started(["filter", "validate"]), { schema: SCHEMA });
    assert.deepEqual(await started(["filter", "map"]), {});
    assert.deepEqual(await started(["select"]), {});
  });
});
