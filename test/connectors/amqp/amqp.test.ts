// @needs-service rabbitmq
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { amqpConnector } from "../../../src/connectors/amqp/index.js";
import type { Batch, Connection, MessageFailureReport, Sink, Source } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { RABBIT_URL, RawRabbit, connectAmqp, sourceContext, uniqueName } from "./amqp-fixtures.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

async function firstBatch(source: Source): Promise<{ batch: Batch; iterator: AsyncIterator<Batch> }> {
  const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
  const next = await iterator.next();
  assert.equal(next.done, false, "expected a batch");
  return { batch: next.value as Batch, iterator };
}

/**
 * The first `count` messages, whatever batches they come in (RabbitMQ may deliver a burst in
 * several pieces), as one batch whose ack and nack settle every batch read.
 */
async function firstMessages(source: Source, count: number): Promise<{ batch: Batch; iterator: AsyncIterator<Batch> }> {
  const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
  const batches: Batch[] = [];
  while (batches.reduce((sum, batch) => sum + batch.messages.length, 0) < count) {
    const next = await iterator.next();
    assert.equal(next.done, false, `expected ${count} messages`);
    batches.push(next.value as Batch);
  }
  const invalid = new Map<Message, Error>();
  for (const batch of batches) for (const [message, error] of batch.invalid ?? []) invalid.set(message, error);
  return {
    iterator,
    batch: {
      messages: batches.flatMap((batch) => batch.messages),
      invalid,
      ack: async () => {
        for (const batch of batches) await batch.ack();
      },
      nack: async (reason, requeue) => {
        for (const batch of batches) await batch.nack(reason, requeue);
      },
    },
  };
}

function report(overrides: Partial<MessageFailureReport> = {}): MessageFailureReport {
  return { error: "target said no", kind: "permanent", stage: "sink", attempts: 3, ...overrides };
}

describe("amqp connector", { skip: await serviceSkipReason("rabbitmq") }, () => {
  let raw: RawRabbit;
  const connections: Connection[] = [];

  before(async () => {
    raw = await RawRabbit.open();
  });
  after(async () => {
    for (const connection of connections) await connection.close();
    await raw.cleanup();
  });

  async function connect(config: Parameters<typeof connectAmqp>[0] = {}): Promise<Connection> {
    const connection = await connectAmqp(config);
    connections.push(connection);
    // The connection opens (and declares its topology) on first use.
    await connection.health(new AbortController().signal);
    return connection;
  }

  test("declares exchanges, queues (quorum, dead-letter exchange, TTL, max length) and bindings, again on every connection", async () => {
    const exchange = uniqueName("orders");
    const dlx = uniqueName("dlx");
    const queue = uniqueName("created");
    const classic = uniqueName("classic");
    raw.trackExchange(exchange, dlx);
    raw.track(queue, classic);
    const config = {
      exchanges: [{ name: exchange, type: "topic" }, { name: dlx, type: "fanout" }],
      queues: [
        { name: queue, type: "quorum" as const, dead_letter_exchange: dlx, delivery_limit: 3 },
        { name: classic, message_ttl: "1m", max_length: 1000, overflow: "reject-publish" as const },
      ],
      bindings: [{ exchange, queue, routing_key: "order.created.*" }],
    };
    const first = await connect(config);
    assert.equal((await first.health(new AbortController().signal)).status, "healthy");
    const second = await connect(config);
    assert.equal((await second.health(new AbortController().signal)).status, "healthy", "declaring the same topology again is fine");

    // The binding routes: a message published to the topic exchange lands in the quorum queue.
    raw.channel.publish(exchange, "order.created.eu", Buffer.from("{}"));
    await raw.confirmed();
    assert.equal(await raw.count(queue), 1);
    await raw.drain(queue);
  });

  test("a queue that exists with other arguments is a permanent error that says what to do", async () => {
    const queue = uniqueName("mismatch");
    await raw.queue(queue);
    const connection = await connect({ queues: [{ name: queue, type: "quorum" }] });
    const health = await connection.health(new AbortController().signal);
    assert.equal(health.status, "unhealthy");
    assert.match(health.detail ?? "", /406/);
    assert.match(health.detail ?? "", /make the config match/);
    assert.doesNotMatch(health.detail ?? "", /guest:guest/);
  });

  test("publishes with confirms and consumes with id, headers, correlation id, trace context and a binary CloudEvent", async () => {
    const exchange = uniqueName("events");
    const queue = uniqueName("events");
    raw.trackExchange(exchange);
    raw.track(queue);
    const connection = await connect({ exchanges: [{ name: exchange, type: "topic" }], queues: [{ name: queue }], bindings: [{ exchange, queue, routing_key: "order.#" }] });
    const sink = connection.sink?.(
      amqpConnector.sink && { exchange, routing_key: "order.{{ status }}.{{ $lowercase(region) }}", cloudevents: { mode: "binary", type: "com.example.order" }, headers: { "x-tenant": "{{ tenant }}" } },
      { integration: "publisher", logger: sourceContext().logger },
    ) as Sink;
    const messages = [1, 2, 3].map((n) =>
      createMessage({ id: `order-${n}`, correlationId: `corr-${n}`, headers: { traceparent: TRACEPARENT }, payload: { n, status: "created", region: "EU", tenant: `t${n}` } }),
    );
    const outcome = await sink.write(messages, new AbortController().signal);
    assert.deepEqual(outcome.failures, []);
    assert.equal(await raw.count(queue), 3, "confirmed means in the queue");

    const source = connection.source?.({ queue, key: "{{ tenant }}" }, sourceContext()) as Source;
    const { batch, iterator } = await firstMessages(source, 3);
    assert.deepEqual(batch.messages.map((m) => m.payload), messages.map((m) => m.payload));
    const first = batch.messages[0] as Message;
    assert.equal(first.id, "order-1");
    assert.equal(first.key, "t1");
    assert.equal(first.correlationId, "corr-1");
    assert.equal(first.attempt, 1);
    assert.equal(first.headers.traceparent, TRACEPARENT);
    assert.equal(first.headers["x-tenant"], "t1");
    assert.equal(first.metadata.routing_key, "order.created.eu");
    assert.equal((first.metadata.cloudevent as Record<string, string>).type, "com.example.order");
    assert.equal((first.metadata.cloudevent as Record<string, string>).source, "junction/publisher");
    await batch.ack();
    await iterator.return?.();
    await source.close?.();
    assert.equal(await raw.count(queue), 0, "acknowledged");
    await sink.close?.();
  });

  test("structured CloudEvents round trip, and a publisher's own structured event is unwrapped", async () => {
    const queue = uniqueName("structured");
    raw.track(queue);
    const connection = await connect({ queues: [{ name: queue }] });
    const sink = connection.sink?.({ routing_key: queue, cloudevents: { mode: "structured", source: "urn:shop", type: "order.paid" } }, { integration: "p", logger: sourceContext().logger }) as Sink;
    assert.deepEqual((await sink.write([createMessage({ id: "e1", payload: { paid: true } })], new AbortController().signal)).failures, []);
    await raw.publish(queue, { specversion: "1.0", id: "ext-7", source: "urn:other", type: "thing.done", data: { x: 1 } }, { contentType: "application/cloudevents+json" });

    const source = connection.source?.({ queue }, sourceContext()) as Source;
    const { batch, iterator } = await firstMessages(source, 2);
    assert.equal(batch.messages.length, 2);
    const [ours, theirs] = batch.messages as [Message, Message];
    assert.deepEqual(ours.payload, { paid: true });
    assert.equal(ours.id, "e1");
    assert.equal((ours.metadata.cloudevent as Record<string, string>).type, "order.paid");
    assert.deepEqual(theirs.payload, { x: 1 });
    assert.equal(theirs.id, "ext-7", "the CloudEvent id becomes the message id when there is no message_id");
    await batch.ack();
    await iterator.return?.();
    await source.close?.();
    await sink.close?.();
  });

  test("a message no queue is bound for fails alone and permanently (mandatory), the others are confirmed", async () => {
    const exchange = uniqueName("routes");
    const queue = uniqueName("routed");
    raw.trackExchange(exchange);
    raw.track(queue);
    const connection = await connect({ exchanges: [{ name: exchange, type: "direct" }], queues: [{ name: queue }], bindings: [{ exchange, queue, routing_key: "known" }] });
    const sink = connection.sink?.({ exchange, routing_key: "{{ to }}" }, { integration: "p", logger: sourceContext().logger }) as Sink;
    const outcome = await sink.write(
      [createMessage({ payload: { to: "known" } }), createMessage({ payload: { to: "nowhere" } }), createMessage({ payload: { to: "known" } })],
      new AbortController().signal,
    );
    assert.equal(outcome.failures.length, 1);
    assert.equal(outcome.failures[0]?.index, 1);
    assert.equal((outcome.failures[0]?.error as { kind?: string }).kind, "permanent");
    assert.match(String((outcome.failures[0]?.error as Error).message), /no queue is bound .* routing key "nowhere"/);
    assert.equal(await raw.count(queue), 2);
    await raw.drain(queue);
    await sink.close?.();
  });

  test("requeue hands a message back with a delivery count until max_deliveries; dead letters go to the exchange with the error", async () => {
    const queue = uniqueName("work");
    const dlx = uniqueName("work.dlx");
    const dead = uniqueName("work.dead");
    raw.trackExchange(dlx);
    raw.track(queue, dead);
    const connection = await connect({
      exchanges: [{ name: dlx, type: "fanout" }],
      queues: [{ name: queue, dead_letter_exchange: dlx }, { name: dead }],
      bindings: [{ exchange: dlx, queue: dead }],
    });
    await raw.publish(queue, { n: 1 }, { messageId: "m-1", headers: { "x-origin": "test" } });
    const source = connection.source?.({ queue, max_deliveries: 2 }, sourceContext()) as Source;

    const { batch: first, iterator } = await firstBatch(source);
    let batch = first;
    let message = batch.messages[0] as Message;
    assert.equal(message.attempt, 1);
    assert.equal(await batch.settlement?.requeue?.(message, report({ kind: "transient" })), "requeued");
    await batch.ack(); // nothing left to acknowledge: must not touch the requeued delivery
    batch = (await iterator.next()).value as Batch;
    message = batch.messages[0] as Message;
    assert.equal(message.id, "m-1");
    assert.equal(message.attempt, 2, "x-junction-deliveries counts the hand-backs");
    assert.equal(message.headers["x-junction-last-error"], "target said no");
    assert.equal(message.headers["x-origin"], "test", "original headers are kept");
    assert.equal(await batch.settlement?.requeue?.(message, report({ kind: "transient" })), "exhausted");

    await batch.settlement?.deadLetter?.(message, report({ attempts: 2 }));
    await batch.ack();
    await iterator.return?.();
    await source.close?.();
    const letters = await raw.drain(dead);
    assert.equal(letters.length, 1);
    const headers = letters[0]?.properties.headers as Record<string, unknown>;
    assert.equal(String(headers["x-junction-error"]), "target said no");
    assert.equal(String(headers["x-junction-stage"]), "sink");
    assert.equal(Number(headers["x-junction-attempts"]), 2);
    assert.equal(String(headers["x-junction-original-queue"]), queue);
    assert.equal(letters[0]?.properties.messageId, "m-1");
    assert.deepEqual(JSON.parse(letters[0]?.content.toString() ?? ""), { n: 1 });
    assert.equal(await raw.count(queue), 0);
  });

  test("an undecodable body is reported as invalid with the rest of the batch intact", async () => {
    const queue = uniqueName("bodies");
    raw.track(queue);
    const connection = await connect({ queues: [{ name: queue }] });
    await raw.publish(queue, { ok: 1 });
    await raw.publish(queue, "{not json");
    await raw.publish(queue, { ok: 3 });
    const source = connection.source?.({ queue }, sourceContext()) as Source;
    const { batch, iterator } = await firstMessages(source, 3);
    assert.equal(batch.messages.length, 3);
    const bad = batch.messages[1] as Message;
    assert.match(String(batch.invalid?.get(bad)?.message), /could not decode the message body/);
    assert.equal(batch.invalid?.size, 1);
    await batch.ack();
    await iterator.return?.();
    await source.close?.();
    assert.equal(await raw.count(queue), 0);
  });

  test("a batch nacked on shutdown goes back to the queue; closing without an ack does too", async () => {
    const queue = uniqueName("shutdown");
    raw.track(queue);
    const connection = await connect({ queues: [{ name: queue }] });
    for (let n = 0; n < 5; n++) await raw.publish(queue, { n });
    const source = connection.source?.({ queue }, sourceContext()) as Source;
    const { batch, iterator } = await firstMessages(source, 5);
    assert.equal(batch.messages.length, 5);
    await batch.nack(new Error("shutting down"), true);
    await iterator.return?.();
    await source.close?.();
    await waitFor(async () => (await raw.count(queue)) === 5);

    const again = connection.source?.({ queue }, sourceContext()) as Source;
    const second = await firstMessages(again, 5);
    assert.equal(second.batch.messages.length, 5);
    assert.ok(second.batch.messages.every((m) => m.metadata.redelivered === true));
    await second.iterator.return?.();
    await again.close?.();
    await waitFor(async () => (await raw.count(queue)) === 5);
  });

  test("config checks: URL scheme, duplicate names, delivery_limit without quorum, undeclared dead-letter exchange, bad templates", () => {
    const issues = amqpConnector.check.config({
      url: "http://x",
      exchanges: [{ name: "a", type: "topic" }, { name: "a", type: "topic" }],
      queues: [{ name: "q", delivery_limit: 3, dead_letter_exchange: "missing" }],
      bindings: [{ exchange: "a" }],
    });
    const messages = issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    assert.ok(messages.some((m) => m.startsWith("url: expected an amqp://")));
    assert.ok(messages.some((m) => m.startsWith("exchanges.1.name: declared twice")));
    assert.ok(messages.some((m) => m.startsWith("queues.0.delivery_limit: only quorum")));
    assert.ok(messages.some((m) => m.startsWith('queues.0.dead_letter_exchange: exchange "missing"')));
    assert.ok(messages.some((m) => m.startsWith("bindings.0: give exactly one")));
    const sink = amqpConnector.check.sink({ routing_key: "a.{{ broken( }}" });
    assert.match(sink[0]?.message ?? "", /invalid JSONata/);
    assert.deepEqual(amqpConnector.check.source({ queue: "q", key: "{{ id }}" }), []);
    void RABBIT_URL;
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
