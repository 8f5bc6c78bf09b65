// @needs-service redis
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { defaultConsumerName } from "../../../src/connectors/redis/stream-source.js";
import { sleep } from "../../../src/core/abort.js";
import { serviceSkipReason } from "../../support/services.js";
import { capturingLogger, LEVEL } from "../log-capture.js";
import { drain } from "../connector-context.js";
import { RedisFixture, collect, nextBatch } from "./redis-fixture.js";
import type { RedisConnection } from "./redis-fixture.js";

describe("redis stream source", { skip: await serviceSkipReason("redis") }, () => {
  const fx = new RedisFixture("source");
  let redis: RedisConnection;

  before(async () => {
    redis = await fx.connect();
  });
  after(() => fx.tearDown());

  test("creates the group with MKSTREAM; start earliest reads what is there, latest only what comes after", async () => {
    const stream = fx.name("s");
    const early = fx.name("g");
    const late = fx.name("g");
    // The stream does not exist yet: the first group creates it.
    assert.deepEqual(await drain(fx.source(redis, { stream, group: early, consumer: "c1" })), []);
    assert.equal(await fx.raw.type(stream), "stream");
    await fx.add(stream, [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(await drain(fx.source(redis, { stream, group: late, consumer: "c1", start: "latest" })), []);
    await fx.add(stream, [{ n: 3 }]);
    const fromEarly = await drain(fx.source(redis, { stream, group: early, consumer: "c1", start: "latest" }));
    assert.deepEqual(fromEarly.flatMap((b) => b.messages.map((m) => m.payload)), [{ n: 1 }, { n: 2 }, { n: 3 }], "an existing group keeps its position");
    const fromLate = await drain(fx.source(redis, { stream, group: late, consumer: "c1" }));
    assert.deepEqual(fromLate.flatMap((b) => b.messages.map((m) => m.payload)), [{ n: 3 }]);
    const groups = (await fx.raw.call("XINFO", "GROUPS", stream)) as unknown[][];
    assert.equal(groups.length, 2);
  });

  test("messages: data is the body, other fields are headers; id from message-id, else redis:<stream>:<entry id>; batch_size; ack is XACK", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const ids = await fx.add(stream, [{ n: 1 }, { n: 2 }, { n: 3 }], (i) =>
      i === 0 ? ["message-id", "order-1", "x-correlation-id", "corr-1", "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tenant", "acme"] : [],
    );
    const batches = await drain(fx.source(redis, { stream, group, consumer: "c1", batch_size: 2 }), { ack: false });
    assert.deepEqual(batches.map((b) => b.messages.length), [2, 1]);
    const [first, second] = batches[0]?.messages ?? [];
    assert.equal(first?.id, "order-1");
    assert.equal(first?.correlationId, "corr-1");
    assert.deepEqual(first?.headers, { "message-id": "order-1", "x-correlation-id": "corr-1", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tenant: "acme" });
    assert.deepEqual(first?.metadata, { stream, entry_id: ids[0], group, consumer: "c1", delivery_count: 1 });
    assert.equal(first?.attempt, 1);
    assert.equal(second?.id, `redis:${stream}:${ids[1]}`);
    assert.equal(second?.correlationId, second?.id);
    assert.equal((await fx.pending(stream, group)).length, 3);
    await batches[0]?.ack();
    assert.deepEqual((await fx.pending(stream, group)).map((p) => p.id), [ids[2]]);
    await batches[1]?.ack();
    assert.deepEqual(await fx.pending(stream, group), []);
  });

  test("a restarted consumer reads its own pending entries again first, as redeliveries", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    // The first process reads two entries and dies before acknowledging them.
    const dying = new AbortController();
    const first = fx.source(redis, { stream, group, consumer: "worker", batch_size: 2 }).batches(dying.signal)[Symbol.asyncIterator]();
    const unacked = await nextBatch(first);
    assert.deepEqual(unacked.messages.map((m) => m.payload), [{ n: 1 }, { n: 2 }]);
    dying.abort();
    await first.return?.();
    await fx.add(stream, [{ n: 5 }]);

    const batches = await drain(fx.source(redis, { stream, group, consumer: "worker", batch_size: 10 }));
    const messages = batches.flatMap((b) => b.messages);
    assert.deepEqual(messages.map((m) => m.payload), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }], "own pending entries come before new ones");
    assert.deepEqual(messages.map((m) => m.attempt), [2, 2, 1, 1, 1]);
    assert.equal(messages[0]?.metadata.delivery_count, 2);
    assert.equal(messages[0]?.id, unacked.messages[0]?.id, "the id is the same on redelivery");
    assert.deepEqual(await fx.pending(stream, group), []);
  });

  test("the default consumer name is stable per host and integration", () => {
    assert.equal(defaultConsumerName("orders"), defaultConsumerName("orders"));
    assert.notEqual(defaultConsumerName("orders"), defaultConsumerName("invoices"));
  });

  test("XAUTOCLAIM: entries a dead consumer read and never acknowledged are claimed after claim_idle and processed", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.raw.xgroup("CREATE", stream, group, "0", "MKSTREAM");
    await fx.add(stream, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    // A consumer that reads two entries and is never heard of again.
    await fx.raw.call("XREADGROUP", "GROUP", group, "dead", "COUNT", "2", "STREAMS", stream, ">");
    const { logger, lines } = capturingLogger();
    const source = fx.source(redis, { stream, group, consumer: "alive", claim_idle: "300ms", block: "50ms" }, { follow: true, logger });
    const controller = new AbortController();
    const iterator = source.batches(controller.signal)[Symbol.asyncIterator]();
    const started = Date.now();
    const batches = await collect(iterator, 3);
    for (const batch of batches) await batch.ack();
    controller.abort();
    await iterator.return?.();
    const messages = batches.flatMap((b) => b.messages);
    assert.deepEqual(messages.map((m) => m.payload).sort((a, b) => (a as { n: number }).n - (b as { n: number }).n), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const claimed = messages.filter((m) => (m.payload as { n: number }).n <= 2);
    assert.deepEqual(claimed.map((m) => m.attempt), [2, 2], "a claim counts as a delivery");
    assert.ok(Date.now() - started >= 250, "claimed only once idle for claim_idle");
    assert.deepEqual(await fx.pending(stream, group), []);
    assert.ok(lines.some((line) => line.level === 30 && /claimed 2 entries/.test(line.msg)));
  });

  test("pending entries whose data was trimmed away are acknowledged and skipped with a warning", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const ids = await fx.add(stream, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const dying = new AbortController();
    const first = fx.source(redis, { stream, group, consumer: "worker" }).batches(dying.signal)[Symbol.asyncIterator]();
    assert.equal((await nextBatch(first)).messages.length, 3);
    dying.abort();
    await first.return?.();
    await fx.raw.xdel(stream, ids[0] as string, ids[1] as string);

    const { logger, lines } = capturingLogger();
    const batches = await drain(fx.source(redis, { stream, group, consumer: "worker" }, { logger }));
    assert.deepEqual(batches.flatMap((b) => b.messages.map((m) => m.payload)), [{ n: 3 }]);
    assert.deepEqual(await fx.pending(stream, group), []);
    const warning = lines.find((line) => line.level === LEVEL.warn && /no longer exist/.test(line.msg));
    assert.ok(warning, "a warning names the skipped entries");
    assert.deepEqual(warning.entries, [ids[0], ids[1]]);
  });

  test("an undecodable body, a missing data field and a failing key template are reported in Batch.invalid; the rest flows", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, [{ id: 1 }, "{not json", { id: 3 }, { other: 4 }]);
    await fx.raw.xadd(stream, "*", "payload", "no data field");
    const [batch] = await drain(fx.source(redis, { stream, group, consumer: "c1", key: "{{ id }}" }), { ack: false });
    assert.ok(batch?.invalid);
    const invalid = [...batch.invalid.entries()].map(([message, error]) => [message.headers.payload ?? message.payload, error.message]);
    assert.equal(invalid.length, 3);
    assert.match(invalid[0]?.[1] as string, /could not decode the message body/);
    assert.equal(invalid[0]?.[0], "{not json", "the undecodable body is kept as text for the dead letter");
    assert.match(invalid[1]?.[1] as string, /gave nothing/);
    assert.match(invalid[2]?.[1] as string, /no "data" field/);
    const valid = batch.messages.filter((m) => !batch.invalid?.has(m));
    assert.deepEqual(valid.map((m) => m.key), ["1", "3"]);
    await batch.ack();
    assert.deepEqual(await fx.pending(stream, group), [], "the batch ack covers the invalid entries once the engine dead-lettered them");
  });

  test("requeue leaves the entry pending and it comes back after claim_idle; exhausted at max_deliveries", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, [{ n: 1 }, { n: 2 }]);
    const controller = new AbortController();
    const source = fx.source(redis, { stream, group, consumer: "c1", claim_idle: "200ms", block: "50ms", max_deliveries: 2 }, { follow: true });
    const iterator = source.batches(controller.signal)[Symbol.asyncIterator]();
    const report = { error: "busy", kind: "transient", stage: "sink", attempts: 3 };

    const first = await nextBatch(iterator);
    const poison = first.messages[0];
    assert.ok(poison && first.settlement?.requeue);
    assert.equal(await first.settlement.requeue(poison, report), "requeued");
    await first.ack();
    assert.deepEqual((await fx.pending(stream, group)).map((p) => p.deliveries), [1], "the requeued entry is still pending, the other acknowledged");

    const handedBackAt = Date.now();
    const again = await nextBatch(iterator);
    assert.ok(Date.now() - handedBackAt >= 150, "redelivered only after claim_idle");
    assert.equal(again.messages.length, 1);
    const redelivered = again.messages[0];
    assert.ok(redelivered && again.settlement?.requeue);
    assert.equal(redelivered.id, poison.id);
    assert.equal(redelivered.attempt, 2);
    assert.equal(await again.settlement.requeue(redelivered, report), "exhausted");
    // The engine then stores the dead letter; the batch ack covers the entry.
    await again.ack();
    assert.deepEqual(await fx.pending(stream, group), []);
    controller.abort();
    await iterator.return?.();
  });

  test("deadLetter with dead_letter_stream adds the original fields and the error, and acknowledges, in one step", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const dead = fx.name("dead");
    const ids = await fx.add(stream, [{ n: 1 }, { n: 2 }], (i) => (i === 0 ? ["x-correlation-id", "corr-9"] : []));
    const [batch] = await drain(fx.source(redis, { stream, group, consumer: "c1", dead_letter_stream: dead }), { ack: false });
    const failed = batch?.messages[0];
    assert.ok(batch?.settlement?.deadLetter && failed);
    await batch.settlement.deadLetter(failed, { error: "amount must be a number", kind: "permanent", stage: "transform", attempts: 1 });
    assert.deepEqual((await fx.pending(stream, group)).map((p) => p.id), [ids[1]], "dead-lettered means acknowledged");
    const [letter] = await fx.entries(dead);
    assert.deepEqual(
      { ...letter?.fields, "x-junction-failed-at": "-" },
      {
        data: '{"n":1}',
        "x-correlation-id": "corr-9",
        "x-junction-error": "amount must be a number",
        "x-junction-error-kind": "permanent",
        "x-junction-stage": "transform",
        "x-junction-attempts": "1",
        "x-junction-stream": stream,
        "x-junction-group": group,
        "x-junction-entry-id": ids[0],
        "x-junction-failed-at": "-",
      },
    );
    await batch.ack();
    assert.deepEqual(await fx.pending(stream, group), []);
  });

  test("a dead-letter stream that cannot take the entry leaves it pending (nothing acknowledged without its dead letter)", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const dead = fx.name("dead");
    await fx.raw.set(dead, "not a stream");
    await fx.add(stream, [{ n: 1 }]);
    const [batch] = await drain(fx.source(redis, { stream, group, consumer: "c1", dead_letter_stream: dead }), { ack: false });
    const failed = batch?.messages[0];
    assert.ok(batch?.settlement?.deadLetter && failed);
    await assert.rejects(batch.settlement.deadLetter(failed, { error: "bad", kind: "permanent", stage: "sink", attempts: 1 }), /WRONGTYPE/);
    assert.equal((await fx.pending(stream, group)).length, 1);
  });

  test("nack leaves every entry pending for a later delivery", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    await fx.add(stream, [{ n: 1 }, { n: 2 }]);
    const [batch] = await drain(fx.source(redis, { stream, group, consumer: "c1" }), { ack: false });
    await batch?.nack(new Error("shutting down"), true);
    assert.equal((await fx.pending(stream, group)).length, 2);
  });

  test("following, a blocking read ends as soon as the run stops", async () => {
    const stream = fx.name("s");
    const group = fx.name("g");
    const controller = new AbortController();
    const iterator = fx.source(redis, { stream, group, consumer: "c1", block: "30s" }, { follow: true }).batches(controller.signal)[Symbol.asyncIterator]();
    const next = iterator.next();
    await sleep(200);
    await fx.add(stream, [{ n: 1 }]);
    const batch = (await next).value;
    assert.deepEqual(batch?.messages.map((m: { payload: unknown }) => m.payload), [{ n: 1 }], "a new entry wakes the blocking read");
    await batch?.ack();
    const waiting = iterator.next();
    await sleep(100);
    const stoppedAt = Date.now();
    controller.abort();
    assert.equal((await waiting).done, true);
    assert.ok(Date.now() - stoppedAt < 1000, "not after the 30 s block");
  });

  test("key_prefix is prepended to the stream and dead-letter stream names", async () => {
    const prefix = `${fx.prefix}:p:`;
    const prefixed = await fx.connect({ key_prefix: prefix });
    await fx.add(`${prefix}orders`, [{ n: 1 }]);
    const [batch] = await drain(fx.source(prefixed, { stream: "orders", group: "g", consumer: "c1", dead_letter_stream: "orders.dead" }), { ack: false });
    assert.equal(batch?.messages[0]?.metadata.stream, `${prefix}orders`);
    await batch?.settlement?.deadLetter?.(batch.messages[0] as never, { error: "x", kind: "permanent", stage: "sink", attempts: 1 });
    assert.equal((await fx.entries(`${prefix}orders.dead`)).length, 1);
  });

  test("health is PING with its latency; unhealthy when the server cannot be reached", async () => {
    const health = await redis.health(AbortSignal.timeout(2000));
    assert.equal(health.status, "healthy");
    assert.match(health.detail ?? "", /PING answered in/);
    const nowhere = await fx.connect({ url: "redis://127.0.0.1:1" });
    const down = await nowhere.health(AbortSignal.timeout(1500));
    assert.equal(down.status, "unhealthy");
  });
});
