import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { httpServerConnector } from "../../../src/connectors/http_server/index.js";
import type { HttpServerSourceOptions } from "../../../src/connectors/http_server/schema.js";
import type { Batch, Connection } from "../../../src/connectors/types.js";
import { sleep } from "../../../src/core/abort.js";
import { permanentError } from "../../../src/core/errors.js";
import { runtimeContext, sourceContext } from "../connector-context.js";

type HttpConnection = Connection<HttpServerSourceOptions, never>;

describe("http_server source", () => {
  let connection: HttpConnection;
  let base: string;
  const controller = new AbortController();
  let batches: AsyncIterator<Batch>;

  before(async () => {
    connection = await httpServerConnector.connect({ listen: "127.0.0.1:0", max_body: "1kb" }, runtimeContext(process.cwd()));
    const health = await connection.health(controller.signal);
    assert.equal(health.status, "healthy");
    base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(health.detail ?? "")?.[1] as string;
    assert.ok(base, health.detail);
    const source = (connection.source as NonNullable<HttpConnection["source"]>)({ path: "/events", max_pending: 2 }, sourceContext({ follow: true }));
    batches = source.batches(controller.signal)[Symbol.asyncIterator]();
  });
  after(async () => {
    controller.abort();
    await connection.close();
  });

  function post(body: string, headers: Record<string, string> = {}, path = "/events"): Promise<Response> {
    return fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  }

  async function nextBatch(): Promise<Batch> {
    const result = await batches.next();
    assert.equal(result.done, false);
    return result.value as Batch;
  }

  test("the response waits for the ack, then is 200 with the count", async () => {
    let answered = false;
    const response = post(JSON.stringify({ order: 1 }), {
      "x-correlation-id": "corr-1",
      authorization: "Bearer secret-token",
      cookie: "session=abc",
      "X-Custom": "Yes",
    }).then((r) => {
      answered = true;
      return r;
    });
    const batch = await nextBatch();
    assert.equal(batch.messages.length, 1);
    const message = batch.messages[0];
    assert.deepEqual(message?.payload, { order: 1 });
    assert.equal(message?.correlationId, "corr-1");
    assert.equal(message?.headers["x-custom"], "Yes");
    assert.equal(message?.headers.authorization, undefined);
    assert.equal(message?.headers.cookie, undefined);
    assert.equal(message?.metadata.path, "/events");
    await sleep(50);
    assert.equal(answered, false, "no response before the batch is settled");
    await batch.ack();
    const settled = await response;
    assert.equal(settled.status, 200);
    assert.deepEqual(await settled.json(), { accepted: 1 });
  });

  test("without x-correlation-id, the trace id of a W3C traceparent is the correlation id", async () => {
    const response = post(JSON.stringify({ order: 2 }), { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    const batch = await nextBatch();
    assert.equal(batch.messages[0]?.correlationId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(batch.messages[0]?.headers.traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "the trace context travels on with the message");
    await batch.ack();
    assert.equal((await response).status, 200);
  });

  test("an array becomes one batch of N messages; an idempotency key makes ids stable", async () => {
    const response = post(JSON.stringify([{ a: 1 }, { a: 2 }, 3]), { "idempotency-key": "req-77" });
    const batch = await nextBatch();
    assert.deepEqual(
      batch.messages.map((m) => [m.id, m.payload]),
      [
        ["req-77:0", { a: 1 }],
        ["req-77:1", { a: 2 }],
        ["req-77:2", 3],
      ],
    );
    await batch.ack();
    assert.deepEqual(await (await response).json(), { accepted: 3 });
  });

  test("nack with requeue (or a transient reason) answers 503 with Retry-After; a permanent nack answers 500 with the reason", async () => {
    const retry = post("{}");
    await (await nextBatch()).nack(new Error("shutting down"), true);
    const retried = await retry;
    assert.equal(retried.status, 503);
    assert.equal(retried.headers.get("retry-after"), "1");
    await retried.body?.cancel();

    const failing = post("{}");
    await (await nextBatch()).nack(permanentError("mapping failed: no field id"), false);
    const failed = await failing;
    assert.equal(failed.status, 500);
    assert.match(((await failed.json()) as { error: string }).error, /mapping failed: no field id/);
  });

  test("invalid JSON 400, too large 413, wrong content type 415, wrong method 405, unknown path 404", async () => {
    const invalid = await post("{nope");
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: string }).error, /invalid JSON/);
    assert.equal((await post("42")).status, 400);
    const large = await post(JSON.stringify({ big: "x".repeat(2000) }));
    assert.equal(large.status, 413);
    await large.body?.cancel();
    const text = await fetch(base + "/events", { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    assert.equal(text.status, 415);
    await text.body?.cancel();
    const get = await fetch(base + "/events");
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
    const unknown = await post("{}", {}, "/elsewhere");
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
    const empty = await post("[]");
    assert.deepEqual(await empty.json(), { accepted: 0 });
    const cloudEvent = post("{}", { "content-type": "application/cloudevents+json" });
    await (await nextBatch()).ack();
    assert.equal((await cloudEvent).status, 200);
  });

  test("more than max_pending requests in flight are turned away with 503 + Retry-After", async () => {
    const first = post('{"n":1}');
    const second = post('{"n":2}');
    const one = await nextBatch();
    while (!/\(2 requests pending\)/.test((await connection.health(controller.signal)).detail ?? "")) await sleep(5);
    const third = await post('{"n":3}');
    assert.equal(third.status, 503);
    assert.equal(third.headers.get("retry-after"), "1");
    assert.match(((await third.json()) as { error: string }).error, /max_pending 2/);
    await one.ack();
    const two = await nextBatch();
    await two.ack();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
  });

  test("the listener closes on shutdown: waiting requests get 503 and health turns unhealthy", async () => {
    const other = await httpServerConnector.connect({ listen: "127.0.0.1:0" }, runtimeContext(process.cwd()));
    const url = /listening on (\S+)/.exec((await other.health(controller.signal)).detail ?? "")?.[1] as string;
    const stop = new AbortController();
    const source = (other.source as NonNullable<HttpConnection["source"]>)({}, sourceContext({ follow: true }));
    const iterator = source.batches(stop.signal)[Symbol.asyncIterator]();
    const pulled = iterator.next();
    const waiting = fetch(url + "/", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await pulled;
    const queued = fetch(url + "/", { method: "POST", headers: { "content-type": "application/json" }, body: '{"queued":true}' });
    await sleep(50);
    stop.abort();
    assert.equal((await iterator.next()).done, true);
    await other.close();
    const [a, b] = await Promise.all([waiting, queued]);
    assert.equal(a.status, 503);
    assert.equal(b.status, 503);
    assert.equal((await other.health(controller.signal)).status, "unhealthy");
    assert.deepEqual(httpServerConnector.check.config({ listen: "localhost" })[0]?.path, ["listen"]);
    assert.deepEqual(httpServerConnector.check.config({ listen: "[::1]:0" }), []);
  });
});
