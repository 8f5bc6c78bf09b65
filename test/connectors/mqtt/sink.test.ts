// @needs-service mqtt
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createMessage } from "../../../src/core/message.js";
import { errorKind } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { MqttFixture, messagesOf, takeMessages } from "./mqtt-fixture.js";

const fx = new MqttFixture("sink");
after(() => fx.tearDown());

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const signal = () => AbortSignal.timeout(10_000);

describe("mqtt sink", { skip: await serviceSkipReason("mqtt") }, () => {
  test("QoS 1: written once PUBACKed, with message-id, correlation, trace context and content type as MQTT 5 properties", async () => {
    const topic = fx.topic("out");
    const observer = await fx.observe(topic);
    const connection = await fx.connect();
    const sink = fx.sink(connection, { topic });
    const message = createMessage({ id: "msg-1", payload: { total: 12 }, correlationId: "corr-9", headers: { traceparent: TRACEPARENT } });
    assert.deepEqual(await sink.write([message], signal()), { failures: [] });
    const [seen] = await observer.until(1);
    assert.ok(seen);
    assert.deepEqual(JSON.parse(seen.payload.toString("utf8")), { total: 12 });
    assert.equal(seen.packet.qos, 1);
    const properties = seen.packet.properties;
    assert.equal(properties?.contentType, "application/json");
    assert.deepEqual({ ...properties?.userProperties }, { "x-correlation-id": "corr-9", traceparent: TRACEPARENT, "message-id": "msg-1" });
  });

  test("QoS 2 publishes (PUBCOMP) and a round trip through the source keeps id, correlation id and traceparent", async () => {
    const topic = fx.topic("exactly");
    const clientId = fx.clientId("reader");
    await fx.createSession(clientId, topic, 2);
    const writer = await fx.connect();
    const sink = fx.sink(writer, { topic, qos: 2 });
    const messages = Array.from({ length: 50 }, (_, n) => createMessage({ id: `e${n}`, payload: { n }, correlationId: `c${n}`, headers: { traceparent: TRACEPARENT } }));
    assert.deepEqual(await sink.write(messages, signal()), { failures: [] });

    const reader = await fx.connect({ client_id: clientId });
    const received = messagesOf(await takeMessages(fx.source(reader, { topics: [topic], qos: 2 }), 50));
    assert.deepEqual(received.map((m) => m.id), messages.map((m) => m.id));
    assert.deepEqual(received.map((m) => m.correlationId), messages.map((m) => m.correlationId));
    assert.ok(received.every((m) => m.headers.traceparent === TRACEPARENT && m.metadata.qos === 2));
  });

  test("the topic is a template per message; a message whose topic cannot be made fails alone (permanent)", async () => {
    const base = fx.topic("routed");
    const observer = await fx.observe(`${base}/#`);
    const connection = await fx.connect();
    const sink = fx.sink(connection, { topic: `${base}/{{ region }}/orders` });
    const outcome = await sink.write(
      [
        createMessage({ id: "a", payload: { region: "eu" } }),
        createMessage({ id: "b", payload: { other: 1 } }),
        createMessage({ id: "c", payload: { region: "us/#" } }),
        createMessage({ id: "d", payload: { region: "us" } }),
      ],
      signal(),
    );
    assert.deepEqual(
      outcome.failures.map((f) => f.index),
      [1, 2],
    );
    assert.ok(outcome.failures.every((f) => errorKind(f.error) === "permanent"));
    assert.match(String(outcome.failures[0]?.error), /gave nothing/);
    assert.match(String(outcome.failures[1]?.error), /wildcard/);
    const seen = await observer.until(2);
    assert.deepEqual(seen.map((s) => s.topic).sort(), [`${base}/eu/orders`, `${base}/us/orders`]);
  });

  test("retain: a subscriber that comes later gets the last message, flagged retained", async () => {
    const topic = fx.topic("retained");
    fx.retained(topic);
    const connection = await fx.connect();
    const sink = fx.sink(connection, { topic, retain: true });
    await sink.write([createMessage({ id: "r1", payload: { v: 1 } }), createMessage({ id: "r2", payload: { v: 2 } })], signal());
    const reader = await fx.connect();
    const [message] = messagesOf(await takeMessages(fx.source(reader, { topics: [topic] }), 1));
    assert.deepEqual(message?.payload, { v: 2 });
    assert.equal(message?.id, "r2");
    assert.equal(message?.metadata.retain, true);
  });

  test("CloudEvents binary mode: attributes as bare user properties; the source reads them back", async () => {
    const topic = fx.topic("ce-binary");
    const observer = await fx.observe(topic);
    const connection = await fx.connect();
    const sink = fx.sink(connection, { topic, cloudevents: { mode: "binary", source: "/orders", type: "order.created" } }, "orders_out");
    await sink.write([createMessage({ id: "evt-1", payload: { order: 7 }, correlationId: "k1" })], signal());
    const [seen] = await observer.until(1);
    const props = seen?.packet.properties?.userProperties as Record<string, string>;
    assert.equal(props.specversion, "1.0");
    assert.equal(props.id, "evt-1");
    assert.equal(props.source, "/orders");
    assert.equal(props.type, "order.created");
    assert.equal(props.correlationid, "k1");
    assert.equal(seen?.packet.properties?.contentType, "application/json");
    assert.deepEqual(JSON.parse(seen?.payload.toString("utf8") ?? ""), { order: 7 });
  });

  test("CloudEvents structured mode: one JSON envelope, read back by a MQTT 3.1.1 source", async () => {
    const topic = fx.topic("ce-structured");
    const clientId = fx.clientId("v4reader");
    await fx.createSession(clientId, topic, 1, 4);
    const connection = await fx.connect({ protocol_version: 4 });
    const sink = fx.sink(connection, { topic, cloudevents: { mode: "structured" } }, "legacy");
    await sink.write([createMessage({ id: "evt-s", payload: { ok: true }, correlationId: "k-s" })], signal());
    const reader = await fx.connect({ client_id: clientId, protocol_version: 4 });
    const [message] = messagesOf(await takeMessages(fx.source(reader, { topics: [topic] }), 1));
    assert.equal(message?.id, "evt-s");
    assert.equal(message?.correlationId, "k-s");
    assert.deepEqual(message?.payload, { ok: true });
    assert.equal((message?.metadata.cloudevent as { source: string }).source, "junction/legacy");
  });

  test("MQTT 3.1.1 has no user properties: binary CloudEvents are refused; plain messages carry the body only", async () => {
    const topic = fx.topic("v4");
    const connection = await fx.connect({ protocol_version: 4 });
    assert.throws(() => fx.sink(connection, { topic, cloudevents: { mode: "binary" } }), (error: unknown) => errorKind(error) === "config" && /structured/.test(String(error)));
    const observer = await fx.observe(topic, 4);
    await fx.sink(connection, { topic, format: "text" }).write([createMessage({ id: "t", payload: "plain text" })], signal());
    const [seen] = await observer.until(1);
    assert.equal(seen?.payload.toString("utf8"), "plain text");
  });

  test("QoS 0 with at_most_once publishes without waiting for the broker", async () => {
    const topic = fx.topic("qos0");
    const observer = await fx.observe(topic);
    const connection = await fx.connect();
    const outcome = await fx.sink(connection, { topic, qos: 0, at_most_once: true }).write([createMessage({ id: "z", payload: { z: 1 } })], signal());
    assert.deepEqual(outcome, { failures: [] });
    assert.equal((await observer.until(1))[0]?.packet.qos, 0);
  });

  test("many concurrent QoS 2 publishes stay within the broker's Receive Maximum", async () => {
    const topic = fx.topic("burst");
    const connection = await fx.connect();
    const sink = fx.sink(connection, { topic, qos: 2 });
    const batches = [0, 1, 2].map((b) => Array.from({ length: 300 }, (_, n) => createMessage({ id: `${b}-${n}`, payload: { b, n } })));
    const outcomes = await Promise.all(batches.map((batch) => sink.write(batch, signal())));
    assert.deepEqual(
      outcomes.map((o) => o.failures.length),
      [0, 0, 0],
    );
  });

  test("an unreachable broker fails the whole write as transient after connect_timeout; an aborted write rejects", async () => {
    const connection = await fx.connect({ url: "mqtt://127.0.0.1:1", connect_timeout: "300ms" });
    const sink = fx.sink(connection, { topic: fx.topic("nowhere") });
    const outcome = await sink.write([createMessage({ id: "1", payload: {} }), createMessage({ id: "2", payload: {} })], signal());
    assert.deepEqual(
      outcome.failures.map((f) => f.index),
      [0, 1],
    );
    assert.ok(outcome.failures.every((f) => errorKind(f.error) === "transient" && /not connected/.test(String(f.error))));
    await assert.rejects(sink.write([createMessage({ id: "3", payload: {} })], AbortSignal.timeout(50)));
  });
});
