// @needs-service redis
// The redis source driven by the engine's runner: a poison message is handed back until
// max_deliveries, then dead-lettered (into dead_letter_stream, or the state store) while
// the other messages flow; undecodable entries go straight to the dead letters.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { transientError } from "../../../src/core/errors.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openStateStore } from "../../../src/state/open.js";
import type { StateStore } from "../../../src/state/types.js";
import { RecordingSink, runContinuouslyUntil } from "../../support/engine-fixtures.js";
import { serviceSkipReason } from "../../support/services.js";
import { RedisFixture } from "./redis-fixture.js";
import type { RedisConnection } from "./redis-fixture.js";

describe("redis source in the engine", { skip: await serviceSkipReason("redis") }, () => {
  const fx = new RedisFixture("engine");
  let redis: RedisConnection;
  let state: StateStore;

  before(async () => {
    redis = await fx.connect();
    state = await openStateStore("sqlite::memory:");
  });
  after(async () => {
    await fx.tearDown();
    await state.close();
  });

  const POISON = 7;
  const poisonSink = (): RecordingSink => new RecordingSink((message) => ((message.payload as { n: number }).n === POISON ? transientError("the payment API keeps timing out") : undefined));

  test("a poison message is handed back until max_deliveries, then moved to dead_letter_stream with the error; the others flow", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const dead = fx.name("dead");
    await fx.add(stream, Array.from({ length: 30 }, (_, i) => ({ n: i + 1 })));
    const sink = poisonSink();
    const source = fx.source(redis, { stream, group, consumer: "c1", claim_idle: "150ms", block: "50ms", max_deliveries: 3, dead_letter_stream: dead }, { follow: true, batchSize: 10, integration: "poison-dls" });
    const summary = await runContinuouslyUntil("poison-dls", source, sink, state, async () => (await fx.raw.exists(dead)) === 1 && (await fx.pending(stream, group)).length === 0);

    assert.equal(sink.accepted.size, 29, "every other message was written");
    const poisonId = `redis:${stream}:${(await fx.raw.xrange(stream, "-", "+"))[POISON - 1]?.[0]}`;
    const poisonWrites = sink.calls.flat().filter((id) => id === poisonId).length;
    assert.equal(poisonWrites, 9, "3 deliveries × 3 in-process attempts");
    const [letter, extra] = await fx.entries(dead);
    assert.equal(extra, undefined);
    assert.equal(letter?.fields.data, JSON.stringify({ n: POISON }));
    assert.equal(letter?.fields["x-junction-error"], "the payment API keeps timing out");
    assert.equal(letter?.fields["x-junction-error-kind"], "transient");
    assert.equal(letter?.fields["x-junction-stage"], "sink");
    assert.equal(letter?.fields["x-junction-attempts"], "3");
    assert.deepEqual(await fx.pending(stream, group), []);
    assert.deepEqual(await state.listDeadLetters({ integration: "poison-dls" }), [], "the broker holds the dead letter, not the state store");
    assert.equal(summary.run.counts.deadLettered, 1);
  });

  test("without dead_letter_stream the exhausted message goes to the state store's dead letters and is acknowledged", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, Array.from({ length: 20 }, (_, i) => ({ n: i + 1 })));
    const sink = poisonSink();
    const source = fx.source(redis, { stream, group, consumer: "c1", claim_idle: "150ms", block: "50ms", max_deliveries: 2 }, { follow: true, batchSize: 10 });
    await runContinuouslyUntil("poison-store", source, sink, state, async () => (await state.listDeadLetters({ integration: "poison-store" })).length > 0 && (await fx.pending(stream, group)).length === 0);
    assert.equal(sink.accepted.size, 19);
    const letters = await state.listDeadLetters({ integration: "poison-store" });
    assert.equal(letters.length, 1);
    assert.deepEqual(letters[0]?.message.payload, { n: POISON });
    assert.equal(letters[0]?.attempts, 3);
    assert.equal(letters[0]?.message.metadata.delivery_count, 2);
    assert.match(letters[0]?.error.message ?? "", /keeps timing out/);
    assert.deepEqual(await fx.pending(stream, group), []);
  });

  test("an undecodable entry is dead-lettered as it came while the rest is written", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, [{ n: 1 }, "{oops", { n: 3 }]);
    const sink = new RecordingSink();
    const source = fx.source(redis, { stream, group, consumer: "c1", block: "50ms" }, { follow: true });
    await runContinuouslyUntil("invalid-body", source, sink, state, async () => sink.accepted.size === 2 && (await fx.pending(stream, group)).length === 0);
    const letters = await state.listDeadLetters({ integration: "invalid-body" });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.stage, "source");
    assert.equal(letters[0]?.message.payload, "{oops");
    assert.match(letters[0]?.error.message ?? "", /could not decode/);
    assert.deepEqual(await fx.pending(stream, group), []);
  });

  test("stream to stream through the engine: ids, correlation ids and trace context carried", async () => {
    const from = fx.name("from");
    const to = fx.name("to");
    await fx.add(from, [{ n: 1 }, { n: 2 }], (i) => ["message-id", `m-${i}`, "x-correlation-id", `c-${i}`, "traceparent", `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`]);
    const source = fx.source(redis, { stream: from, group: fx.name("g"), consumer: "c1", block: "50ms" }, { follow: true });
    const sink = (redis.sink as NonNullable<RedisConnection["sink"]>)({ stream: to }, { integration: "relay", logger: createLogger({ level: "silent" }) });
    await runContinuouslyUntil("relay", source, sink, state, async () => (await fx.raw.xlen(to)) === 2);
    const entries = await fx.entries(to);
    assert.deepEqual(
      entries.map((e) => [e.fields["message-id"], e.fields["x-correlation-id"], e.fields.traceparent, e.fields.data]),
      [
        ["m-0", "c-0", `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`, '{"n":1}'],
        ["m-1", "c-1", `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`, '{"n":2}'],
      ],
    );
  });
});
