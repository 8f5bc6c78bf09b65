// @needs-service mqtt
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { MqttFixture, messagesOf, takeMessages } from "./mqtt-fixture.js";

const fx = new MqttFixture("source");
after(() => fx.tearDown());

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("mqtt source", { skip: await serviceSkipReason("mqtt") }, () => {
  test("QoS 1 round trip: payload, MQTT 5 headers, message id, correlation id, traceparent and metadata", async () => {
    const topic = fx.topic("orders");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic] });
    const taking = takeMessages(source, 1);
    await waitSubscribed();
    await fx.publish(topic, [{ order: 1 }], {
      qos: 1,
      properties: {
        contentType: "application/json",
        correlationData: Buffer.from("corr-data"),
        userProperties: { "message-id": "order-1", "x-correlation-id": "corr-1", traceparent: TRACEPARENT, tenant: "acme" },
      },
    });
    const [message] = messagesOf(await taking);
    assert.ok(message);
    assert.deepEqual(message.payload, { order: 1 });
    assert.equal(message.id, "order-1");
    assert.equal(message.correlationId, "corr-1");
    assert.equal(message.headers.traceparent, TRACEPARENT);
    assert.equal(message.headers.tenant, "acme");
    assert.equal(message.headers["content-type"], "application/json");
    assert.equal(message.headers["correlation-data"], "corr-data");
    assert.equal(message.attempt, 1);
    assert.deepEqual(message.metadata, { topic, qos: 1, retain: false, dup: false });
  });

  test("QoS 2 round trip: every message once, acknowledged with PUBREC after the batch is acked", async () => {
    const topic = fx.topic("exactly");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic], qos: 2 });
    const taking = takeMessages(source, 20);
    await waitSubscribed();
    await fx.publish(
      topic,
      Array.from({ length: 20 }, (_, n) => ({ n })),
      { qos: 2 },
    );
    const messages = messagesOf(await taking);
    assert.deepEqual(
      messages.map((m) => (m.payload as { n: number }).n),
      Array.from({ length: 20 }, (_, n) => n),
    );
    assert.ok(messages.every((m) => m.metadata.qos === 2));
  });

  test("messages without a message-id property get fresh ids; the correlation id falls back to the id", async () => {
    const topic = fx.topic("plain");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic] });
    const taking = takeMessages(source, 2);
    await waitSubscribed();
    await fx.publish(topic, [{ a: 1 }, { a: 2 }]);
    const [first, second] = messagesOf(await taking);
    assert.ok(first && second);
    assert.notEqual(first.id, second.id);
    assert.equal(first.correlationId, first.id);
  });

  test("CloudEvents binary mode (bare user property names) and structured mode both unwrap", async () => {
    const topic = fx.topic("ce");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic] });
    const taking = takeMessages(source, 2);
    await waitSubscribed();
    await fx.publish(topic, [{ amount: 5 }], {
      qos: 1,
      properties: {
        contentType: "application/json",
        userProperties: { specversion: "1.0", id: "ce-binary-1", source: "/shop", type: "order.created", correlationid: "c-bin" },
      },
    });
    await fx.publish(topic, [{ specversion: "1.0", id: "ce-structured-1", source: "/shop", type: "order.paid", data: { amount: 7 } }], {
      qos: 1,
      properties: { contentType: "application/cloudevents+json; charset=utf-8" },
    });
    const [binary, structured] = messagesOf(await taking);
    assert.equal(binary?.id, "ce-binary-1");
    assert.deepEqual(binary?.payload, { amount: 5 });
    assert.equal(binary?.correlationId, "c-bin");
    assert.equal((binary?.metadata.cloudevent as { type: string }).type, "order.created");
    assert.equal(structured?.id, "ce-structured-1");
    assert.deepEqual(structured?.payload, { amount: 7 });
    assert.equal((structured?.metadata.cloudevent as { type: string }).type, "order.paid");
  });

  test("MQTT 3.1.1: no headers, a structured CloudEvent in the body gives id and correlation", async () => {
    const topic = fx.topic("v4");
    const connection = await fx.connect({ protocol_version: 4 });
    const source = fx.source(connection, { topics: [topic] });
    const taking = takeMessages(source, 2);
    await waitSubscribed();
    await fx.publish(topic, [{ specversion: "1.0", id: "v4-event", source: "/legacy", type: "t", correlationid: "c-v4", data: { x: 1 } }, { plain: true }], { qos: 1 }, 4);
    const [event, plain] = messagesOf(await taking);
    assert.equal(event?.id, "v4-event");
    assert.equal(event?.correlationId, "c-v4");
    assert.deepEqual(event?.payload, { x: 1 });
    assert.deepEqual(plain?.payload, { plain: true });
    assert.deepEqual(plain?.headers, {});
  });

  test("an undecodable body is reported in batch.invalid while the rest flows; the key template sets keys", async () => {
    const topic = fx.topic("poison");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic], key: "{{ customer }}" });
    const taking = takeMessages(source, 3);
    await waitSubscribed();
    await fx.publish(topic, [{ customer: "c1" }, "not json {", { customer: "c2" }]);
    const batches = await taking;
    const messages = messagesOf(batches);
    const invalid = new Map(batches.flatMap((batch) => [...(batch.invalid ?? new Map<never, Error>())]));
    assert.equal(messages.length, 3);
    assert.deepEqual(messages.map((m) => m.key), ["c1", undefined, "c2"]);
    assert.equal(invalid.size, 1);
    const [bad, error] = [...invalid][0] ?? [];
    assert.equal(bad?.payload, "not json {");
    assert.match(error?.message ?? "", /could not decode/);
  });

  test("text format hands the body over as a string", async () => {
    const topic = fx.topic("text");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [topic], format: "text" });
    const taking = takeMessages(source, 1);
    await waitSubscribed();
    await fx.publish(topic, ["hello, world"]);
    assert.equal(messagesOf(await taking)[0]?.payload, "hello, world");
  });

  test("wildcard filters and several topics in one subscription", async () => {
    const base = fx.topic("wild");
    const connection = await fx.connect();
    const source = fx.source(connection, { topics: [`${base}/+/created`, `${base}/audit/#`] });
    const taking = takeMessages(source, 3);
    await waitSubscribed();
    await fx.publish(`${base}/eu/created`, [{ n: 1 }]);
    await fx.publish(`${base}/eu/deleted`, [{ n: 99 }]);
    await fx.publish(`${base}/audit/a/b`, [{ n: 2 }]);
    await fx.publish(`${base}/us/created`, [{ n: 3 }]);
    const messages = messagesOf(await taking);
    assert.deepEqual(messages.map((m) => (m.payload as { n: number }).n).sort(), [1, 2, 3]);
    assert.deepEqual(messages.map((m) => m.metadata.topic).sort(), [`${base}/audit/a/b`, `${base}/eu/created`, `${base}/us/created`]);
  });

  test("without follow, a run takes what the session holds and ends once idle", async () => {
    const topic = fx.topic("once");
    const clientId = fx.clientId("once");
    await fx.createSession(clientId, topic);
    await fx.publish(topic, Array.from({ length: 30 }, (_, n) => ({ n })));
    const connection = await fx.connect({ client_id: clientId });
    const source = fx.source(connection, { topics: [topic], idle_timeout: "300ms" }, { follow: false, batchSize: 10 });
    const started = Date.now();
    const batches = await drain(source);
    assert.equal(messagesOf(batches).length, 30);
    assert.ok(batches.every((batch) => batch.messages.length <= 10));
    assert.ok(Date.now() - started < 5000);
  });
});

/** The source subscribes as soon as it is pulled; give the SUBACK a moment before publishing. */
function waitSubscribed(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 300));
}
