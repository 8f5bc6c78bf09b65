import assert from "node:assert/strict";
import { test } from "node:test";
import { EventDecoder, EventEncoder, stringHeaders } from "../../../src/connectors/shared/events/event-codec.js";
import { MessageTemplate } from "../../../src/connectors/shared/events/message-template.js";
import { createMessage } from "../../../src/core/message.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const binding = { headerPrefix: "ce-" };

test("plain JSON: correlation id and the message's trace context travel as headers", () => {
  const encoder = new EventEncoder({}, binding, "orders");
  const event = encoder.encode(createMessage({ id: "m1", correlationId: "c1", headers: { traceparent: TRACEPARENT, tracestate: "k=v" }, payload: { a: 1 } }));
  assert.equal(event.contentType, "application/json");
  assert.deepEqual(JSON.parse(event.body.toString()), { a: 1 });
  assert.deepEqual(event.headers, { "x-correlation-id": "c1", traceparent: TRACEPARENT, tracestate: "k=v" });
  const decoded = new EventDecoder("json", binding).decode({ body: event.body, headers: event.headers, contentType: event.contentType });
  assert.deepEqual(decoded.payload, { a: 1 });
  assert.equal(decoded.correlationId, "c1");
  assert.equal(decoded.cloudevent, undefined);
});

test("CloudEvents binary mode: attributes as prefixed headers, the body is the data", () => {
  const encoder = new EventEncoder({ cloudevents: { mode: "binary", type: "order.created", source: "urn:shop" } }, binding, "orders");
  const event = encoder.encode(createMessage({ id: "evt-1", correlationId: "c9", payload: { total: 12.5 } }));
  assert.equal(event.headers["ce-id"], "evt-1");
  assert.equal(event.headers["ce-type"], "order.created");
  assert.equal(event.headers["ce-source"], "urn:shop");
  assert.equal(event.headers["ce-specversion"], "1.0");
  assert.equal(event.headers["ce-correlationid"], "c9");
  assert.equal(event.headers["ce-datacontenttype"], undefined, "travels as the content type");
  assert.deepEqual(JSON.parse(event.body.toString()), { total: 12.5 });
  const decoded = new EventDecoder("json", binding).decode({ body: event.body, headers: event.headers, contentType: event.contentType });
  assert.deepEqual(decoded.payload, { total: 12.5 });
  assert.equal(decoded.id, "evt-1");
  assert.equal(decoded.cloudevent?.type, "order.created");
  assert.equal(decoded.cloudevent?.datacontenttype, "application/json");
});

test("CloudEvents structured mode: one JSON envelope; found by content type, or by shape when there is none", () => {
  const encoder = new EventEncoder({ cloudevents: { mode: "structured" } }, binding, "orders");
  const event = encoder.encode(createMessage({ id: "evt-2", payload: { ok: true } }));
  assert.match(event.contentType, /^application\/cloudevents\+json/);
  const envelope = JSON.parse(event.body.toString()) as Record<string, unknown>;
  assert.equal(envelope.specversion, "1.0");
  assert.equal(envelope.source, "junction/orders");
  assert.equal(envelope.type, "junction.message");
  assert.deepEqual(envelope.data, { ok: true });
  const decoder = new EventDecoder("json", binding);
  assert.deepEqual(decoder.decode({ body: event.body, headers: {}, contentType: event.contentType }).payload, { ok: true });
  // MQTT 3.1.1 has no content type: a JSON body with specversion is taken as structured.
  const headerless = decoder.decode({ body: event.body, headers: {} });
  assert.deepEqual(headerless.payload, { ok: true });
  assert.equal(headerless.id, "evt-2");
  const base64 = decoder.decode({ body: Buffer.from(JSON.stringify({ specversion: "1.0", id: "b", source: "s", type: "t", data_base64: Buffer.from("hi").toString("base64") })), headers: {} });
  assert.deepEqual(base64.payload, Buffer.from("hi"));
});

test("undecodable bodies and broken envelopes are reported, not thrown", () => {
  const decoder = new EventDecoder("json", binding);
  const broken = decoder.decode({ body: Buffer.from("{nope"), headers: { "x-correlation-id": "c" } });
  assert.match(broken.error?.message ?? "", /could not decode the message body/);
  assert.equal(broken.payload, "{nope");
  assert.equal(broken.correlationId, "c");
  const missing = decoder.decode({ body: Buffer.from(JSON.stringify({ specversion: "1.0", id: "x", type: "t" })), headers: {}, contentType: "application/cloudevents+json" });
  assert.match(missing.error?.message ?? "", /no "source" attribute/);
  const version = decoder.decode({ body: Buffer.from("{}"), headers: { "ce-specversion": "0.3", "ce-id": "1", "ce-source": "s", "ce-type": "t" } });
  assert.match(version.error?.message ?? "", /specversion "0.3" is not supported/);
  assert.equal(new EventDecoder("text", binding).decode({ body: Buffer.from("plain words"), headers: {} }).payload, "plain words");
});

test("stringHeaders turns broker header values into strings", () => {
  assert.deepEqual(stringHeaders({ a: "x", n: 3, b: Buffer.from("buf"), o: { k: 1 }, gone: undefined, nil: null, t: true }), { a: "x", n: "3", b: "buf", o: '{"k":1}', t: "true" });
});

test("templates: static text, {{ JSONata }} parts with $message, and clear errors", async () => {
  const message = createMessage({ id: "m7", key: "k", payload: { region: "EU", status: "paid", n: 3, nested: { x: 1 } } });
  assert.equal(MessageTemplate.parse("orders.created").staticText, "orders.created");
  assert.equal(await MessageTemplate.parse("order.{{ status }}.{{ $lowercase(region) }}").render(message), "order.paid.eu");
  assert.equal(await MessageTemplate.parse("{{ n * 2 }}-{{ $message.id }}").render(message), "6-m7");
  await assert.rejects(MessageTemplate.parse("x.{{ missing }}").render(message), /gave nothing for message m7/);
  await assert.rejects(MessageTemplate.parse("x.{{ nested }}").render(message), /must give a string, number or boolean/);
  assert.match(MessageTemplate.problem("a.{{ b") ?? "", /position 2 is not closed/);
  assert.match(MessageTemplate.problem("a.{{ }}") ?? "", /empty/);
  assert.match(MessageTemplate.problem("a.{{ $x( }}") ?? "", /invalid JSONata/);
  assert.equal(MessageTemplate.problem("a.{{ b }}.c"), undefined);
});
