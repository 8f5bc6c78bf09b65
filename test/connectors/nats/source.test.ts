// @needs-service nats
// The JetStream source against the local server: headers, ids and correlation carried,
// CloudEvents unwrapped, invalid bodies reported, acks, hand-backs on shutdown, nak with
// delay, the delivery limit, dead letters to a subject, terminate, bounded read-ahead.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { errorKind } from "../../../src/core/errors.js";
import type { Message } from "../../../src/core/message.js";
import type { Batch, MessageFailureReport } from "../../../src/connectors/types.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { NatsFixture, SourceReader, collect, firstBatch } from "./nats-fixture.js";
import type { NatsTestConnection } from "./nats-fixture.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const REPORT: MessageFailureReport = { error: "the target said no", kind: "transient", stage: "sink", attempts: 3 };

describe("nats JetStream source", { skip: await serviceSkipReason("nats") }, () => {
  const fx = new NatsFixture("source");
  let nats: NatsTestConnection;

  before(async () => {
    await fx.setUp();
    nats = await fx.connect();
  });
  after(() => fx.tearDown());

  test("round trip: payload, every header, correlation id, trace context, ids and metadata; acked messages are gone", async () => {
    const { stream, subject } = await fx.stream("roundtrip");
    const seq1 = await fx.publish(subject("created"), { n: 1 }, { "x-correlation-id": "corr-1", traceparent: TRACEPARENT, "X-Tenant": "acme" }, "order-1");
    await fx.publish(subject("created"), { n: 2 }, { traceparent: TRACEPARENT });
    const seq3 = await fx.publish(subject("updated"), { n: 3 });
    const source = fx.source(nats, { stream, consumer: "rt", key: "order-{{ n }}" });
    const batches = await drain(source);
    const messages = batches.flatMap((batch) => batch.messages);
    assert.equal(messages.length, 3);
    const [first, second, third] = messages as [Message, Message, Message];
    assert.deepEqual(first.payload, { n: 1 });
    assert.equal(first.id, "order-1", "Nats-Msg-Id is the id");
    assert.equal(first.correlationId, "corr-1");
    assert.equal(first.headers["X-Tenant"], "acme");
    assert.equal(first.headers.traceparent, TRACEPARENT);
    assert.equal(first.attempt, 1);
    assert.equal(first.key, "order-1");
    assert.deepEqual(
      { subject: first.metadata.subject, stream: first.metadata.stream, seq: first.metadata.stream_sequence, deliveries: first.metadata.delivery_count },
      { subject: subject("created"), stream, seq: seq1, deliveries: 1 },
    );
    assert.equal(second.correlationId, "0af7651916cd43dd8448eb211c80319c", "the trace id when there is no x-correlation-id");
    assert.equal(third.id, `nats:${stream}:${seq3}`, "no publisher id: the stream position");
    assert.equal(third.correlationId, third.id);

    const info = await fx.consumerInfo(stream, "rt");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
    assert.equal(info.config.max_deliver, 5, "max_deliver defaults to 5");
    assert.equal((await drain(source)).length, 0, "nothing comes back after the acks");
  });

  test("CloudEvents: structured and binary events are unwrapped, their id becomes the message id", async () => {
    const { stream, subject } = await fx.stream("ce");
    const event = { specversion: "1.0", id: "evt-structured", source: "/shop", type: "order.created", correlationid: "corr-ce", data: { n: 1 } };
    await fx.publish(subject(), event, { "content-type": "application/cloudevents+json" });
    await fx.publish(subject(), { n: 2 }, { "ce-specversion": "1.0", "ce-id": "evt-binary", "ce-source": "/shop", "ce-type": "order.created", "Content-Type": "application/json" });
    const messages = (await drain(fx.source(nats, { stream, consumer: "ce" }))).flatMap((batch) => batch.messages);
    assert.deepEqual(
      messages.map((m) => [m.id, m.payload, m.correlationId, (m.metadata.cloudevent as { type: string }).type]),
      [
        ["evt-structured", { n: 1 }, "corr-ce", "order.created"],
        ["evt-binary", { n: 2 }, "evt-binary", "order.created"],
      ],
    );
  });

  test("an undecodable body is reported in Batch.invalid while the others are read", async () => {
    const { stream, subject } = await fx.stream("invalid");
    await fx.publish(subject(), { n: 1 });
    await fx.publish(subject(), "{not json");
    await fx.publish(subject(), { n: 3 });
    const batches = await drain(fx.source(nats, { stream, consumer: "inv" }), { ack: false });
    assert.equal(batches.flatMap((batch) => batch.messages).length, 3);
    const invalid = batches.flatMap((batch) => [...(batch.invalid ?? new Map<Message, Error>())]);
    assert.equal(invalid.length, 1);
    const [[bad, error]] = invalid as [[Message, Error]];
    assert.equal(bad.payload, "{not json");
    assert.match(error.message, /could not decode/);
    for (const batch of batches) await batch.ack();
  });

  test("a stopped source hands back unsettled and read-ahead messages, which come back at once", async () => {
    const { stream, subject } = await fx.stream("handback");
    for (let n = 1; n <= 6; n++) await fx.publish(subject(), { n });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "hb", batch_size: 2 }, { follow: true }));
    const { batches } = await reader.nextMessages(2);
    // The engine's order on shutdown: the source stops, then the unsettled batches are nacked.
    await reader.close();
    for (const batch of batches) await batch.nack(new Error("shutting down"), true);

    const started = Date.now();
    const again = (await collect(fx.source(nats, { stream, consumer: "hb" }, { follow: true }), 6)).flatMap((b) => b.messages);
    assert.deepEqual(again.map((m) => (m.payload as { n: number }).n).sort(), [1, 2, 3, 4, 5, 6], JSON.stringify(again.map((m) => [m.payload, m.attempt])));
    assert.ok(Date.now() - started < 5_000, "not after ack_wait (30s)");
    assert.ok(
      again.filter((m) => (m.payload as { n: number }).n <= 2).every((m) => m.attempt >= 2),
      "the nacked ones were delivered before",
    );
    const info = await fx.consumerInfo(stream, "hb");
    assert.equal(info.num_ack_pending, 0);
  });

  test("reads ahead a bounded number of messages", async () => {
    const { stream, subject } = await fx.stream("bounded");
    for (let n = 1; n <= 60; n++) await fx.publish(subject(), { n });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "bd", batch_size: 5 }, { follow: true }));
    const batch = await reader.next();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const info = await fx.consumerInfo(stream, "bd");
    assert.ok(info.num_ack_pending <= 15, `at most one batch handed out, one buffered and one pull in flight (${info.num_ack_pending})`);
    assert.ok(info.num_pending >= 45);
    await batch.ack();
    await reader.close();
  });

  test("requeue naks with nak_delay: the message comes back after the delay with attempt 2; the batch ack leaves it alone", async () => {
    const { stream, subject } = await fx.stream("nak");
    await fx.publish(subject(), { n: 1 });
    await fx.publish(subject(), { n: 2 });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "nak", nak_delay: "1500ms" }, { follow: true }));
    const { batches } = await reader.nextMessages(2);
    const batch = batches[0] as Batch;
    assert.ok(batch.settlement?.requeue);
    const failing = batch.messages[0] as Message;
    const nakedAt = Date.now();
    assert.equal(await batch.settlement.requeue(failing, REPORT), "requeued");
    for (const each of batches) await each.ack();
    const again = await reader.next();
    const redelivered = again.messages[0] as Message;
    assert.deepEqual(redelivered.payload, { n: 1 });
    assert.equal(redelivered.attempt, 2);
    assert.equal(redelivered.id, failing.id, "the id is stable across deliveries");
    assert.ok(Date.now() - nakedAt >= 1_300, `redelivered after the delay (${Date.now() - nakedAt}ms)`);
    await again.ack();
    await reader.close();
    const info = await fx.consumerInfo(stream, "nak");
    assert.equal(info.num_ack_pending, 0);
  });

  test("requeue reports exhausted once the delivery count reaches max_deliver", async () => {
    const { stream, subject } = await fx.stream("exhaust");
    await fx.publish(subject(), { n: 1 });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "ex", max_deliver: 2, nak_delay: 0 }, { follow: true }));
    const first = await reader.next();
    assert.equal(await first.settlement?.requeue?.(first.messages[0] as Message, REPORT), "requeued");
    const second = await reader.next();
    const message = second.messages[0] as Message;
    assert.equal(message.attempt, 2);
    assert.equal(await second.settlement?.requeue?.(message, REPORT), "exhausted");
    await second.settlement?.discard?.(message);
    await second.ack();
    await reader.close();
    const info = await fx.consumerInfo(stream, "ex");
    assert.equal(info.num_ack_pending, 0, "terminated, not waiting for a redelivery");
  });

  test("dead_letter_subject: the dead letter is stored with the original headers and the error, then the original is terminated", async () => {
    const { stream, subject } = await fx.stream("dlsrc");
    const dlq = await fx.stream("dlq");
    await fx.publish(subject(), { n: 1 }, { "x-correlation-id": "corr-dl", "X-Tenant": "acme" }, "poison-1");
    await fx.publish(subject(), { n: 2 });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "dl", dead_letter_subject: dlq.subject("dead") }, { follow: true }));
    const { batches } = await reader.nextMessages(2);
    const batch = batches[0] as Batch;
    assert.ok(batch.settlement?.deadLetter, "deadLetter is offered with a dead_letter_subject");
    await batch.settlement.deadLetter(batch.messages[0] as Message, { ...REPORT, kind: "permanent", attempts: 1 });
    for (const each of batches) await each.ack();
    await reader.close();

    const [letter] = await fx.storedMessages(dlq.stream);
    assert.ok(letter);
    assert.deepEqual(letter.json(), { n: 1 });
    assert.equal(letter.header.get("x-junction-error"), "the target said no");
    assert.equal(letter.header.get("x-junction-error-kind"), "permanent");
    assert.equal(letter.header.get("x-junction-stage"), "sink");
    assert.equal(letter.header.get("x-junction-original-stream"), stream);
    assert.equal(letter.header.get("x-junction-original-sequence"), "1");
    assert.equal(letter.header.get("x-junction-original-msg-id"), "poison-1");
    assert.equal(letter.header.get("x-correlation-id"), "corr-dl");
    assert.equal(letter.header.get("X-Tenant"), "acme");
    const info = await fx.consumerInfo(stream, "dl");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
  });

  test("a dead_letter_subject no stream stores, or one the consumer itself reads, is a config error before reading", async () => {
    const { stream, subject } = await fx.stream("dlcheck");
    const other = await fx.stream("dlcheckother");
    const nowhere = `${fx.prefix}_NOWHERE.dead`;
    await assert.rejects(collect(fx.source(nats, { stream, consumer: "c1", dead_letter_subject: nowhere }, { follow: true }), 1), (error: unknown) => {
      assert.equal(errorKind(error), "config");
      assert.match((error as Error).message, /no stream stores it/);
      return true;
    });
    await assert.rejects(collect(fx.source(nats, { stream, consumer: "c2", dead_letter_subject: subject("dead") }, { follow: true }), 1), (error: unknown) => {
      assert.equal(errorKind(error), "config");
      assert.match((error as Error).message, /would come back/);
      return true;
    });
    // Same stream, but outside the consumer's filter: fine; another stream: fine.
    await fx.publish(subject("live"), { n: 1 });
    await collect(fx.source(nats, { stream, consumer: "c3", filter_subject: subject("live"), dead_letter_subject: subject("dead") }, { follow: true }), 1);
    await fx.publish(subject("live"), { n: 2 });
    await collect(fx.source(nats, { stream, consumer: "c4", dead_letter_subject: other.subject("dead") }, { follow: true }), 2);
  });

  test("without dead_letter_subject the engine stores dead letters: no deadLetter, discard terminates", async () => {
    const { stream, subject } = await fx.stream("discard");
    await fx.publish(subject(), { n: 1 });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "dc", ack_wait: "1s" }, { follow: true }));
    const batch = await reader.next();
    assert.equal(batch.settlement?.deadLetter, undefined);
    await batch.settlement?.discard?.(batch.messages[0] as Message);
    await batch.ack();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const info = await fx.consumerInfo(stream, "dc");
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_redelivered, 0, "a terminated message is not delivered again after ack_wait");
    await reader.close();
  });

  test("following: waits for new messages and returns promptly when stopped", async () => {
    const { stream, subject } = await fx.stream("follow");
    const controller = new AbortController();
    const source = fx.source(nats, { stream, consumer: "fl" }, { follow: true });
    const pending = firstBatch(source, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fx.publish(subject(), { n: 1 });
    const { batch, iterator } = await pending;
    assert.deepEqual(batch.messages[0]?.payload, { n: 1 });
    await batch.ack();
    const next = iterator.next();
    const stoppedAt = Date.now();
    controller.abort();
    assert.equal((await next).done, true);
    assert.ok(Date.now() - stoppedAt < 1_000);
  });

  test("keeps extending ack_wait for messages still being processed", async () => {
    const { stream, subject } = await fx.stream("wpi");
    await fx.publish(subject(), { n: 1 });
    const reader = new SourceReader(fx.source(nats, { stream, consumer: "wpi", ack_wait: "1s" }, { follow: true }));
    const batch = await reader.next();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const info = await fx.consumerInfo(stream, "wpi");
    assert.equal(info.num_redelivered, 0, "not redelivered while held");
    await batch.ack();
    await reader.close();
  });
});
