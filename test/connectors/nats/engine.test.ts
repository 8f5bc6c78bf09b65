// @needs-service nats
// The JetStream source driven by the engine's runner: a poison message is handed back with
// a delay until max_deliver, then dead-lettered (to dead_letter_subject, or the state store
// and terminated) while the other messages flow; undecodable bodies go straight to the dead
// letters; stream to stream relays keep ids and correlation.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sleep } from "../../../src/core/abort.js";
import { transientError } from "../../../src/core/errors.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openStateStore } from "../../../src/state/open.js";
import type { StateStore } from "../../../src/state/types.js";
import { RecordingSink, runContinuouslyUntil } from "../../support/engine-fixtures.js";
import { serviceSkipReason } from "../../support/services.js";
import { NatsFixture } from "./nats-fixture.js";
import type { NatsTestConnection } from "./nats-fixture.js";

describe("nats source in the engine", { skip: await serviceSkipReason("nats") }, () => {
  const fx = new NatsFixture("engine");
  let nats: NatsTestConnection;
  let state: StateStore;

  before(async () => {
    await fx.setUp();
    nats = await fx.connect();
    state = await openStateStore("sqlite::memory:");
  });
  after(async () => {
    await fx.tearDown();
    await state.close();
  });

  const POISON = 7;
  const poisonSink = (): RecordingSink => new RecordingSink((message) => ((message.payload as { n: number }).n === POISON ? transientError("the payment API keeps timing out") : undefined));

  async function settled(stream: string, consumer: string): Promise<boolean> {
    const info = await fx.consumerInfo(stream, consumer).catch(() => undefined);
    return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0;
  }

  test("a poison message is handed back with nak_delay until max_deliver, then published to dead_letter_subject with the error; the others flow", async () => {
    const { stream, subject } = await fx.stream("poison");
    const dlq = await fx.stream("poisondlq");
    for (let n = 1; n <= 30; n++) await fx.publish(subject(), { n }, {}, `order-${n}`);
    const sink = poisonSink();
    const source = fx.source(nats, { stream, consumer: "pay", max_deliver: 3, nak_delay: "100ms", dead_letter_subject: dlq.subject("dead") }, { follow: true, batchSize: 10, integration: "poison-dls" });
    const summary = await runContinuouslyUntil("poison-dls", source, sink, state, async () => (await fx.messageCount(dlq.stream)) === 1 && (await settled(stream, "pay")));

    assert.equal(sink.accepted.size, 29, "every other message was written");
    const poisonWrites = sink.calls.flat().filter((id) => id === `order-${POISON}`).length;
    assert.equal(poisonWrites, 9, "3 deliveries × 3 in-process attempts");
    const [letter, extra] = await fx.storedMessages(dlq.stream);
    assert.equal(extra, undefined);
    assert.deepEqual(letter?.json(), { n: POISON });
    assert.equal(letter?.header.get("x-junction-error"), "the payment API keeps timing out");
    assert.equal(letter?.header.get("x-junction-error-kind"), "transient");
    assert.equal(letter?.header.get("x-junction-stage"), "sink");
    assert.equal(letter?.header.get("x-junction-attempts"), "3");
    assert.equal(letter?.header.get("x-junction-original-msg-id"), `order-${POISON}`);
    assert.deepEqual(await state.listDeadLetters({ integration: "poison-dls" }), [], "the broker holds the dead letter, not the state store");
    assert.equal(summary.run.counts.deadLettered, 1);
    assert.ok(await settled(stream, "pay"), "nothing left pending: the poison message was terminated");
  });

  test("without dead_letter_subject the exhausted message goes to the state store's dead letters and is terminated", async () => {
    const { stream, subject } = await fx.stream("store");
    for (let n = 1; n <= 20; n++) await fx.publish(subject(), { n });
    const sink = poisonSink();
    const source = fx.source(nats, { stream, consumer: "pay", max_deliver: 2, nak_delay: "100ms", ack_wait: "2s" }, { follow: true, batchSize: 10 });
    await runContinuouslyUntil("poison-store", source, sink, state, async () => (await state.listDeadLetters({ integration: "poison-store" })).length > 0 && (await settled(stream, "pay")));
    assert.equal(sink.accepted.size, 19);
    const letters = await state.listDeadLetters({ integration: "poison-store" });
    assert.equal(letters.length, 1);
    assert.deepEqual(letters[0]?.message.payload, { n: POISON });
    assert.equal(letters[0]?.attempts, 3);
    assert.equal(letters[0]?.message.metadata.delivery_count, 2);
    assert.match(letters[0]?.error.message ?? "", /keeps timing out/);
    await sleep(2_500);
    const info = await fx.consumerInfo(stream, "pay");
    assert.equal(info.num_ack_pending, 0, "terminated: not delivered again after ack_wait");
  });

  test("an undecodable body is dead-lettered as it came while the rest is written", async () => {
    const { stream, subject } = await fx.stream("invalid");
    await fx.publish(subject(), { n: 1 });
    await fx.publish(subject(), "{oops");
    await fx.publish(subject(), { n: 3 });
    const sink = new RecordingSink();
    const source = fx.source(nats, { stream, consumer: "inv" }, { follow: true });
    await runContinuouslyUntil("invalid-body", source, sink, state, async () => sink.accepted.size === 2 && (await settled(stream, "inv")));
    const letters = await state.listDeadLetters({ integration: "invalid-body" });
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.stage, "source");
    assert.equal(letters[0]?.message.payload, "{oops");
    assert.match(letters[0]?.error.message ?? "", /could not decode/);
    assert.ok(await settled(stream, "inv"));
  });

  test("stream to stream through the engine: ids, correlation ids and trace context carried, duplicates dropped", async () => {
    const from = await fx.stream("from");
    const to = await fx.stream("to");
    const traceparent = `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01`;
    for (let i = 0; i < 2; i++) await fx.publish(from.subject(), { n: i + 1 }, { "x-correlation-id": `c-${i}`, traceparent }, `m-${i}`);
    const source = fx.source(nats, { stream: from.stream, consumer: "relay" }, { follow: true });
    const sink = (nats.sink as NonNullable<NatsTestConnection["sink"]>)({ stream: to.stream, subject: to.subject("copied") }, { integration: "relay", logger: createLogger({ level: "silent" }) });
    await runContinuouslyUntil("relay", source, sink, state, async () => (await fx.messageCount(to.stream)) === 2 && (await settled(from.stream, "relay")));
    // A replay of the same messages (e.g. after a crash before the acks) is dropped by the target stream's dedup window.
    await fx.jsm.consumers.delete(from.stream, "relay");
    const replay = fx.source(nats, { stream: from.stream, consumer: "relay" }, { follow: true });
    await runContinuouslyUntil("relay", replay, sink, state, async () => settled(from.stream, "relay"));
    const stored = await fx.storedMessages(to.stream);
    assert.deepEqual(
      stored.map((m) => [m.header.get("Nats-Msg-Id"), m.header.get("x-correlation-id"), m.header.get("traceparent"), m.string()]),
      [
        ["m-0", "c-0", traceparent, '{"n":1}'],
        ["m-1", "c-1", traceparent, '{"n":2}'],
      ],
    );
  });
});
