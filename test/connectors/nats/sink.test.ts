// @needs-service nats
// The JetStream target against the local server: Nats-Msg-Id dedup, headers, CloudEvents
// both ways with the source, per-message subject templates, per-message failures with the
// right kind, and the explicit at-most-once core NATS target.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { NatsFixture } from "./nats-fixture.js";
import type { NatsTestConnection } from "./nats-fixture.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("nats JetStream target", { skip: await serviceSkipReason("nats") }, () => {
  const fx = new NatsFixture("sink");
  let nats: NatsTestConnection;
  const signal = new AbortController().signal;

  before(async () => {
    await fx.setUp();
    nats = await fx.connect();
  });
  after(() => fx.tearDown());

  test("publishes with Nats-Msg-Id = message id: the same message written twice is stored once", async () => {
    const { stream, subject } = await fx.stream("dedup");
    const sink = fx.sink(nats, { stream, subject: subject() });
    const message = createMessage({ id: "order-42", payload: { n: 42 }, correlationId: "corr-42" });
    assert.deepEqual((await sink.write([message], signal)).failures, []);
    assert.deepEqual((await sink.write([message, createMessage({ id: "order-43", payload: { n: 43 } })], signal)).failures, []);
    assert.equal(await fx.messageCount(stream), 2);
    const [stored] = await fx.storedMessages(stream);
    assert.equal(stored?.header.get("Nats-Msg-Id"), "order-42");
    assert.equal(stored?.header.get("x-correlation-id"), "corr-42");
    assert.equal(stored?.header.get("Content-Type"), "application/json");
    assert.deepEqual(stored?.json(), { n: 42 });
  });

  test("carries correlation id and traceparent, renders subject and header templates per message", async () => {
    const { stream, subject } = await fx.stream("templates");
    const sink = fx.sink(nats, { stream, subject: `${subject("orders")}.{{ region }}`, headers: { "X-Region": "{{ $uppercase(region) }}" } });
    const messages = [
      createMessage({ id: "a", payload: { region: "eu" }, headers: { traceparent: TRACEPARENT }, correlationId: "corr-a" }),
      createMessage({ id: "b", payload: { region: "us" } }),
    ];
    assert.deepEqual((await sink.write(messages, signal)).failures, []);
    const stored = await fx.storedMessages(stream);
    assert.deepEqual(
      stored.map((m) => [m.subject, m.header.get("X-Region")]),
      [
        [subject("orders.eu"), "EU"],
        [subject("orders.us"), "US"],
      ],
    );
    assert.equal(stored[0]?.header.get("traceparent"), TRACEPARENT);
    assert.equal(stored[0]?.header.get("x-correlation-id"), "corr-a");
  });

  test("per-message failures: a template without a value and a subject no stream stores are permanent, the others are written", async () => {
    const { stream, subject } = await fx.stream("failures");
    const sink = fx.sink(nats, { stream, subject: "{{ target }}" });
    const messages = [
      createMessage({ id: "ok", payload: { target: subject("ok") } }),
      createMessage({ id: "no-field", payload: {} }),
      createMessage({ id: "nowhere", payload: { target: `${fx.prefix}_NOWHERE.x` } }),
    ];
    const { failures } = await sink.write(messages, signal);
    assert.deepEqual(
      failures.map((f) => f.index),
      [1, 2],
    );
    for (const failure of failures) assert.equal(errorKind(failure.error), "permanent");
    assert.match(String((failures[1]?.error as Error).message), /no stream matches subject/);
    assert.equal(await fx.messageCount(stream), 1);
  });

  test("a subject stored by another stream than the target's stream fails permanently", async () => {
    const target = await fx.stream("expected");
    const other = await fx.stream("other");
    const sink = fx.sink(nats, { stream: target.stream, subject: other.subject() });
    const { failures } = await sink.write([createMessage({ id: "x", payload: {} })], signal);
    assert.equal(failures.length, 1);
    assert.equal(errorKind(failures[0]?.error), "permanent");
    assert.match(String((failures[0]?.error as Error).message), /another stream/);
    assert.equal(await fx.messageCount(other.stream), 0);
  });

  test("a closed connection fails every message as transient", async () => {
    const { stream, subject } = await fx.stream("closed");
    const connection = await fx.connect();
    const sink = fx.sink(connection, { stream, subject: subject() });
    await connection.close();
    const { failures } = await sink.write([createMessage({ id: "x", payload: {} }), createMessage({ id: "y", payload: {} })], signal);
    assert.equal(failures.length, 2);
    for (const failure of failures) assert.equal(errorKind(failure.error), "transient");
  });

  for (const mode of ["binary", "structured"] as const) {
    test(`CloudEvents ${mode}: what the target publishes, the source reads back with the same id, payload and correlation`, async () => {
      const { stream, subject } = await fx.stream(`ce${mode}`);
      const sink = fx.sink(nats, { stream, subject: subject(), cloudevents: { mode, source: "/junction/test", type: "order.created" } });
      const sent = createMessage({ id: "evt-1", payload: { n: 1 }, correlationId: "corr-ce" });
      assert.deepEqual((await sink.write([sent], signal)).failures, []);
      const [stored] = await fx.storedMessages(stream);
      if (mode === "binary") {
        assert.equal(stored?.header.get("ce-id"), "evt-1");
        assert.equal(stored?.header.get("ce-type"), "order.created");
        assert.deepEqual(stored?.json(), { n: 1 });
      } else {
        assert.match(stored?.header.get("Content-Type") ?? "", /^application\/cloudevents\+json/);
        assert.equal(stored?.json<{ id: string }>().id, "evt-1");
      }
      const received = (await drain(fx.source(nats, { stream, consumer: "ce" }))).flatMap((b) => b.messages);
      const [message] = received as [Message];
      assert.equal(message.id, "evt-1");
      assert.deepEqual(message.payload, { n: 1 });
      assert.equal(message.correlationId, "corr-ce");
      assert.equal((message.metadata.cloudevent as { source: string }).source, "/junction/test");
    });
  }

  test("text format publishes the payload as it is", async () => {
    const { stream, subject } = await fx.stream("text");
    const sink = fx.sink(nats, { stream, subject: subject(), format: "text" });
    assert.deepEqual((await sink.write([createMessage({ id: "t", payload: "plain words" })], signal)).failures, []);
    const [stored] = await fx.storedMessages(stream);
    assert.equal(stored?.string(), "plain words");
    assert.match(stored?.header.get("Content-Type") ?? "", /^text\/plain/);
  });

  test("at_most_once: core NATS publish reaches a subscriber, and a core source reads it", async () => {
    const subject = `${fx.prefix}.core.events`;
    const reader = fx.source(nats, { subject, at_most_once: true }, { follow: true });
    const controller = new AbortController();
    const iterator = reader.batches(controller.signal)[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sink = fx.sink(nats, { subject, at_most_once: true });
    assert.deepEqual((await sink.write([createMessage({ id: "core-1", payload: { n: 1 }, correlationId: "corr-core" })], signal)).failures, []);
    const result = await next;
    assert.equal(result.done, false);
    const [message] = (result.value as { messages: Message[] }).messages as [Message];
    assert.deepEqual(message.payload, { n: 1 });
    assert.equal(message.correlationId, "corr-core");
    assert.equal(message.metadata.subject, subject);
    controller.abort();
    await iterator.return?.();
  });
});
