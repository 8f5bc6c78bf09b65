// @needs-service redis
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { RedisFixture } from "./redis-fixture.js";
import type { RedisConnection } from "./redis-fixture.js";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("redis stream sink", { skip: await serviceSkipReason("redis") }, () => {
  const fx = new RedisFixture("sink");
  let redis: RedisConnection;
  const signal = new AbortController().signal;

  before(async () => {
    redis = await fx.connect();
  });
  after(() => fx.tearDown());

  test("round trip: XADD with message-id, content type, correlation id and traceparent; the source reads them back", async () => {
    const stream = fx.name("s");
    const sink = fx.sink(redis, { stream });
    const messages = [
      createMessage({ id: "order-1", payload: { n: 1 }, correlationId: "corr-1", headers: { traceparent: TRACEPARENT } }),
      createMessage({ id: "order-2", payload: { n: 2 } }),
    ];
    assert.deepEqual((await sink.write(messages, signal)).failures, []);
    const [entry] = await fx.entries(stream);
    assert.deepEqual(entry?.fields, { data: '{"n":1}', "content-type": "application/json", "message-id": "order-1", "x-correlation-id": "corr-1", traceparent: TRACEPARENT });

    const [batch] = await drain(fx.source(redis, { stream, group: fx.name("g"), consumer: "c1" }));
    const [first, second] = batch?.messages ?? [];
    assert.equal(first?.id, "order-1");
    assert.deepEqual(first?.payload, { n: 1 });
    assert.equal(first?.correlationId, "corr-1");
    assert.equal(first?.headers.traceparent, TRACEPARENT);
    assert.equal(second?.id, "order-2");
    assert.equal(second?.correlationId, "order-2");
  });

  test("CloudEvents structured and binary, written by the sink and unwrapped by the source", async () => {
    for (const mode of ["structured", "binary"] as const) {
      const stream = fx.name(`ce-${mode}`);
      const sink = fx.sink(redis, { stream, cloudevents: { mode, source: "/orders", type: "order.created" } });
      const message = createMessage({ id: `evt-${mode}`, payload: { total: 12.5 }, correlationId: "corr-ce" });
      assert.deepEqual((await sink.write([message], signal)).failures, []);
      const [entry] = await fx.entries(stream);
      if (mode === "structured") {
        assert.match(entry?.fields["content-type"] ?? "", /^application\/cloudevents\+json/);
        const body = JSON.parse(entry?.fields.data ?? "{}") as Record<string, unknown>;
        assert.equal(body.id, `evt-${mode}`);
        assert.deepEqual(body.data, { total: 12.5 });
      } else {
        assert.equal(entry?.fields.data, '{"total":12.5}');
        assert.equal(entry?.fields["ce-id"], `evt-${mode}`);
        assert.equal(entry?.fields["ce-type"], "order.created");
        assert.equal(entry?.fields["ce-specversion"], "1.0");
      }
      const [batch] = await drain(fx.source(redis, { stream, group: fx.name("g"), consumer: "c1" }));
      const read = batch?.messages[0];
      assert.equal(read?.id, `evt-${mode}`);
      assert.deepEqual(read?.payload, { total: 12.5 });
      assert.equal(read?.correlationId, "corr-ce");
      const cloudevent = read?.metadata.cloudevent as Record<string, string>;
      assert.equal(cloudevent.type, "order.created");
      assert.equal(cloudevent.source, "/orders");
    }
  });

  test("a CloudEvent without message-id field takes its id from the event", async () => {
    const stream = fx.name("s");
    await fx.raw.xadd(stream, "*", "data", '{"a":1}', "ce-specversion", "1.0", "ce-id", "ce-42", "ce-source", "/x", "ce-type", "t");
    const [batch] = await drain(fx.source(redis, { stream, group: fx.name("g"), consumer: "c1" }));
    assert.equal(batch?.messages[0]?.id, "ce-42");
    assert.deepEqual(batch?.messages[0]?.payload, { a: 1 });
  });

  test("text format writes and reads plain UTF-8", async () => {
    const stream = fx.name("s");
    await fx.sink(redis, { stream, format: "text" }).write([createMessage({ id: "t1", payload: "héllo" })], signal);
    const [entry] = await fx.entries(stream);
    assert.equal(entry?.fields.data, "héllo");
    assert.match(entry?.fields["content-type"] ?? "", /^text\/plain/);
    const [batch] = await drain(fx.source(redis, { stream, group: fx.name("g"), consumer: "c1", format: "text" }));
    assert.equal(batch?.messages[0]?.payload, "héllo");
  });

  test("the stream is a template per message; a template that gives nothing fails only its message (permanent)", async () => {
    const base = fx.name("orders");
    const sink = fx.sink(redis, { stream: `${base}:{{ region }}` });
    const outcome = await sink.write(
      [createMessage({ id: "a", payload: { region: "eu" } }), createMessage({ id: "b", payload: { other: 1 } }), createMessage({ id: "c", payload: { region: "us" } })],
      signal,
    );
    assert.deepEqual(outcome.failures.map((f) => f.index), [1]);
    assert.equal(errorKind(outcome.failures[0]?.error), "permanent");
    assert.match(String((outcome.failures[0]?.error as Error).message), /gave nothing/);
    assert.equal((await fx.entries(`${base}:eu`)).length, 1);
    assert.equal((await fx.entries(`${base}:us`)).length, 1);
  });

  test("per-message failures come from the pipeline's replies: a key of another type fails alone", async () => {
    const base = fx.name("k");
    await fx.raw.set(`${base}:string`, "not a stream");
    const outcome = await fx.sink(redis, { stream: `${base}:{{ kind }}` }).write(
      [createMessage({ id: "1", payload: { kind: "ok" } }), createMessage({ id: "2", payload: { kind: "string" } }), createMessage({ id: "3", payload: { kind: "ok" } })],
      signal,
    );
    assert.deepEqual(outcome.failures.map((f) => f.index), [1]);
    assert.match(String((outcome.failures[0]?.error as Error).message), /WRONGTYPE/);
    assert.equal(errorKind(outcome.failures[0]?.error), "permanent");
    assert.equal((await fx.entries(`${base}:ok`)).length, 2);
  });

  test("max_len trims the stream (MAXLEN ~) as entries are added", async () => {
    const stream = fx.name("s");
    const sink = fx.sink(redis, { stream, max_len: 100 });
    for (let round = 0; round < 10; round++) {
      const messages = Array.from({ length: 100 }, (_, i) => createMessage({ id: `m${round * 100 + i}`, payload: { n: round * 100 + i } }));
      assert.deepEqual((await sink.write(messages, signal)).failures, []);
    }
    const length = await fx.raw.xlen(stream);
    assert.ok(length >= 100 && length < 1000, `about 100 entries kept, not 1000 (got ${length})`);
    const last = (await fx.raw.xrevrange(stream, "+", "-", "COUNT", 1))[0]?.[1];
    assert.equal(last?.[1], '{"n":999}', "the newest entries are kept");
  });

  test("an unreachable server fails the writes as transient", async () => {
    const nowhere = await fx.connect({ url: "redis://127.0.0.1:1" });
    const outcome = await fx.sink(nowhere, { stream: fx.name("s") }).write([createMessage({ id: "x", payload: 1 })], signal);
    assert.equal(outcome.failures.length, 1);
    assert.equal(errorKind(outcome.failures[0]?.error), "transient");
  });

  test("an aborted write sends nothing", async () => {
    const stream = fx.name("s");
    const controller = new AbortController();
    controller.abort();
    const outcome = await fx.sink(redis, { stream }).write([createMessage({ id: "x", payload: 1 })], controller.signal);
    assert.equal(outcome.failures.length, 1);
    assert.equal(await fx.raw.exists(stream), 0);
  });
});
