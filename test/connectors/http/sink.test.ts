import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { Value } from "@sinclair/typebox/value";
import { httpConnector } from "../../../src/connectors/http/index.js";
import type { HttpConnectionConfig, HttpSinkOptions } from "../../../src/connectors/http/schema.js";
import { HttpConnectionSchema, HttpSinkSchema } from "../../../src/connectors/http/schema.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import type { JunctionError} from "../../../src/core/errors.js";
import { describeError, errorKind } from "../../../src/core/errors.js";
import { freePort } from "../../support/free-port.js";
import { runtimeContext, sinkContext } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import type { LocalApi } from "./local-api.js";

const API_KEY = "sk_live_query_key_8c1f2e";

async function open(config: HttpConnectionConfig, options: HttpSinkOptions = {}): Promise<{ connection: Connection<never, HttpSinkOptions>; sink: Sink }> {
  assert.ok(Value.Check(HttpConnectionSchema, config), JSON.stringify([...Value.Errors(HttpConnectionSchema, config)]));
  assert.ok(Value.Check(HttpSinkSchema, options), JSON.stringify([...Value.Errors(HttpSinkSchema, options)]));
  const connection = (await httpConnector.connect(config, runtimeContext(process.cwd()))) as Connection<never, HttpSinkOptions>;
  const sink = (connection.sink as NonNullable<typeof connection.sink>)(options, sinkContext);
  return { connection, sink };
}

function message(payload: unknown, id = `m-${Math.random().toString(36).slice(2)}`): Message {
  return createMessage({ id, payload });
}

describe("http target", () => {
  const servers: LocalApi[] = [];
  const connections: Connection<never, HttpSinkOptions>[] = [];
  after(async () => {
    for (const connection of connections) await connection.close();
    for (const server of servers) await server.close();
  });
  async function api(handler: Parameters<typeof startLocalApi>[0]): Promise<LocalApi> {
    const server = await startLocalApi(handler);
    servers.push(server);
    return server;
  }
  async function sinkFor(config: HttpConnectionConfig, options: HttpSinkOptions = {}): Promise<Sink> {
    const opened = await open(config, options);
    connections.push(opened.connection);
    return opened.sink;
  }

  test("POSTs the payload as JSON with default headers, templated path, query and headers, and an Idempotency-Key", async () => {
    const server = await api((_request, response) => json(response, 201, { ok: true }));
    const sink = await sinkFor(
      { base_url: `${server.url}/v1/`, headers: { "X-Client": "junction" } },
      { path: "/orders/{{ $encodeUrlComponent(id) }}/items", query: { region: "{{ region }}", "a b": "x&y" }, headers: { "X-Order": "{{ id }}" } },
    );
    const first = message({ id: "a/1", region: "eu" }, "msg-1");
    const outcome = await sink.write([first], new AbortController().signal);
    assert.deepEqual(outcome.failures, []);
    const [request] = server.requests;
    assert.ok(request);
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/v1/orders/a%2F1/items?region=eu&a+b=x%26y");
    assert.equal(request.headers["content-type"], "application/json");
    assert.equal(request.headers["x-client"], "junction");
    assert.equal(request.headers["x-order"], "a/1");
    assert.deepEqual(JSON.parse(request.body), { id: "a/1", region: "eu" });
    assert.match(String(request.headers["idempotency-key"]), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same message (a retry) gets the same key; another message another key.
    await sink.write([{ ...first, attempt: 2 }, message({ id: "b", region: "us" }, "msg-2")], new AbortController().signal);
    assert.equal(server.requests[1]?.headers["idempotency-key"], request.headers["idempotency-key"]);
    assert.notEqual(server.requests[2]?.headers["idempotency-key"], request.headers["idempotency-key"]);
  });

  test("body is a JSONata expression over the payload; idempotency key header and value are configurable or off", async () => {
    const server = await api((_request, response) => json(response, 200, {}));
    const custom = await sinkFor(
      { base_url: server.url },
      { method: "PUT", path: "/x", body: "{ 'total': amount * 100, 'ref': $message.id }", idempotency_key: { header: "X-Request-Id", value: "order-{{ order }}" } },
    );
    await custom.write([message({ amount: 1.5, order: 7 }, "id-7")], new AbortController().signal);
    const off = await sinkFor({ base_url: server.url }, { path: "/y", idempotency_key: false });
    await off.write([message({ a: 1 })], new AbortController().signal);
    const [put, post] = server.requests;
    assert.equal(put?.method, "PUT");
    assert.deepEqual(JSON.parse(put?.body ?? ""), { total: 150, ref: "id-7" });
    assert.equal(put?.headers["x-request-id"], "order-7");
    assert.equal(put?.headers["idempotency-key"], undefined);
    assert.equal(post?.headers["idempotency-key"], undefined);
  });

  test("bearer, basic and api_key (header) authentication", async () => {
    const server = await api((_request, response) => json(response, 200, {}));
    await (await sinkFor({ base_url: server.url, auth: { type: "bearer", token: "tok-123456" } })).write([message({})], new AbortController().signal);
    await (await sinkFor({ base_url: server.url, auth: { type: "basic", username: "ana", password: "p@ss:word" } })).write([message({})], new AbortController().signal);
    await (await sinkFor({ base_url: server.url, auth: { type: "api_key", in: "header", name: "X-API-Key", value: "key-abcdef" } })).write([message({})], new AbortController().signal);
    assert.equal(server.requests[0]?.headers.authorization, "Bearer tok-123456");
    assert.equal(server.requests[1]?.headers.authorization, `Basic ${Buffer.from("ana:p@ss:word").toString("base64")}`);
    assert.equal(server.requests[2]?.headers["x-api-key"], "key-abcdef");
  });

  test("status classification: each status gives its kind, Retry-After (seconds or HTTP date) becomes retryAfterMs", async () => {
    const retryAt = new Date(Date.now() + 120_000).toUTCString();
    const server = await api((request, response) => {
      const status = Number(new URL(request.url, "http://x").searchParams.get("status"));
      const headers: Record<string, string> = {};
      if (status === 429) headers["retry-after"] = "7";
      if (status === 503) headers["retry-after"] = retryAt;
      json(response, status, { error: `status ${status}` }, headers);
    });
    const sink = await sinkFor({ base_url: server.url }, { path: "/s", query: { status: "{{ status }}" } });
    const table: [number, string | undefined][] = [
      [200, undefined],
      [201, undefined],
      [204, undefined],
      [400, "permanent"],
      [401, "auth"],
      [403, "permanent"],
      [404, "permanent"],
      [408, "transient"],
      [409, "permanent"],
      [422, "permanent"],
      [425, "transient"],
      [429, "transient"],
      [500, "transient"],
      [502, "transient"],
      [503, "transient"],
      [504, "transient"],
    ];
    const outcome = await sink.write(
      table.map(([status]) => message({ status })),
      new AbortController().signal,
    );
    const kinds = table.map((_, index) => {
      const failure = outcome.failures.find((candidate) => candidate.index === index);
      return failure === undefined ? undefined : errorKind(failure.error);
    });
    assert.deepEqual(kinds, table.map(([, kind]) => kind));
    const errorFor = (status: number): JunctionError => outcome.failures.find((failure) => failure.index === table.findIndex(([s]) => s === status))?.error as JunctionError;
    assert.equal(errorFor(429).retryAfterMs, 7000);
    const dateWait = errorFor(503).retryAfterMs ?? 0;
    assert.ok(dateWait > 100_000 && dateWait <= 120_000, `Retry-After date → ${dateWait} ms`);
    assert.equal(errorFor(500).retryAfterMs, undefined);
    assert.match(errorFor(422).message, /answered 422: \{"error":"status 422"\}/);
    assert.equal(errorFor(404).context.status, 404);
  });

  test("an error response body is quoted truncated", async () => {
    const server = await api((_request, response) => json(response, 400, { detail: "x".repeat(5000) }));
    const sink = await sinkFor({ base_url: server.url });
    const outcome = await sink.write([message({})], new AbortController().signal);
    const error = outcome.failures[0]?.error as JunctionError;
    assert.equal(error.kind, "permanent");
    assert.ok(error.message.length < 700, `message of ${error.message.length} chars`);
    assert.match(error.message, /…$/);
  });

  test("each message fails on its own: one failure in a batch leaves the others written", async () => {
    const server = await api((request, response) => {
      const body = JSON.parse(request.body) as { n: number };
      json(response, body.n === 3 ? 422 : 200, {});
    });
    const sink = await sinkFor({ base_url: server.url }, { concurrency: 2 });
    const outcome = await sink.write(
      [1, 2, 3, 4, 5].map((n) => message({ n })),
      new AbortController().signal,
    );
    assert.deepEqual(
      outcome.failures.map((failure) => failure.index),
      [2],
    );
    assert.equal(server.requests.length, 5);
  });

  test("messages with the same key are sent in order, one after another; after a failure the rest of that key wait", async () => {
    const server = await api(async (request, response) => {
      const { n } = JSON.parse(request.body) as { n: number };
      await delay(n === 1 ? 80 : 5); // the first of key "a" is slow: without ordering, a2 would overtake it
      json(response, n === 4 ? 500 : 200, {});
    });
    const sink = await sinkFor({ base_url: server.url }, { concurrency: 8 });
    const keyed = (n: number, key: string): Message => ({ ...message({ n }), key });
    const outcome = await sink.write([keyed(1, "a"), keyed(2, "a"), keyed(3, "b"), keyed(4, "c"), keyed(5, "c")], new AbortController().signal);
    const order = server.requests.map((request) => (JSON.parse(request.body) as { n: number }).n);
    assert.ok(order.indexOf(1) < order.indexOf(2), `key a in order: ${order.join(",")}`);
    assert.ok(!order.includes(5), "message 5 waits behind the failed message 4 of the same key");
    assert.deepEqual(
      outcome.failures.map((failure) => [failure.index, errorKind(failure.error)]),
      [
        [3, "transient"],
        [4, "transient"],
      ],
    );
  });

  test("a header value that cannot be sent (a line break from a template) fails that message permanently", async () => {
    const server = await api((_request, response) => json(response, 200, {}));
    const sink = await sinkFor({ base_url: server.url }, { headers: { "X-Note": "{{ note }}" } });
    const outcome = await sink.write([message({ note: "line1\r\nX-Injected: yes" }), message({ note: "fine" })], new AbortController().signal);
    assert.deepEqual(
      outcome.failures.map((failure) => [failure.index, errorKind(failure.error)]),
      [[0, "permanent"]],
    );
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]?.headers["x-injected"], undefined);
  });

  test("an api key in the query string never appears in errors (responses, network failures, echoed bodies)", async () => {
    const server = await api((request, response) => json(response, 404, { error: `no such thing: ${request.url}` }));
    const sink = await sinkFor({ base_url: server.url, auth: { type: "api_key", in: "query", name: "api_key", value: API_KEY } }, { path: "/things?x=1" });
    const outcome = await sink.write([message({})], new AbortController().signal);
    assert.equal(new URL(server.requests[0]?.url ?? "", "http://x").searchParams.get("api_key"), API_KEY, "the key was sent");
    const error = outcome.failures[0]?.error as JunctionError;
    assert.match(error.message, /api_key=%5Bredacted%5D|\[redacted\]/);
    assert.doesNotMatch(JSON.stringify(describeError(error)), new RegExp(API_KEY));
    assert.doesNotMatch(error.message, new RegExp(API_KEY));

    const closed = await freePort();
    const down = await sinkFor({ base_url: `http://127.0.0.1:${closed}`, auth: { type: "api_key", in: "query", name: "api_key", value: API_KEY } });
    const refused = (await down.write([message({})], new AbortController().signal)).failures[0]?.error as JunctionError;
    assert.equal(refused.kind, "transient");
    assert.match(refused.message, /ECONNREFUSED/);
    assert.doesNotMatch(refused.message, new RegExp(API_KEY));
  });

  test("the request timeout cancels the request: the server sees the socket closed, the failure is transient", async () => {
    let closedByClient!: () => void;
    const sawClose = new Promise<void>((resolve) => (closedByClient = resolve));
    const server = await api((_request, response) => {
      response.on("close", () => closedByClient());
      // never answers
    });
    const sink = await sinkFor({ base_url: server.url, timeout: { request: "300ms" } });
    const started = Date.now();
    const outcome = await sink.write([message({})], new AbortController().signal);
    const error = outcome.failures[0]?.error as JunctionError;
    assert.equal(error.kind, "transient");
    assert.equal(error.code, "http.timeout");
    assert.ok(Date.now() - started < 3000);
    await Promise.race([sawClose, delay(2000).then(() => assert.fail("the server never saw the request cancelled"))]);
  });

  test("no timer is left behind: 200 quick requests with a 60 s timeout leave no pending timeouts", async () => {
    const server = await api((_request, response) => json(response, 200, {}));
    const sink = await sinkFor({ base_url: server.url, timeout: { request: "60s" } }, { concurrency: 20 });
    const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
    const before = timers();
    const outcome = await sink.write(
      Array.from({ length: 200 }, (_, n) => message({ n })),
      new AbortController().signal,
    );
    assert.deepEqual(outcome.failures, []);
    assert.ok(timers() - before < 5, `${timers() - before} timers more than before`);
  });

  test("the abort signal cancels requests in flight", async () => {
    let closedByClient!: () => void;
    const sawClose = new Promise<void>((resolve) => (closedByClient = resolve));
    const server = await api((_request, response) => {
      response.on("close", () => closedByClient());
    });
    const sink = await sinkFor({ base_url: server.url, timeout: { request: "30s" } });
    const controller = new AbortController();
    const writing = sink.write([message({})], controller.signal);
    while (server.requests.length === 0) await delay(10);
    controller.abort();
    const outcome = await writing;
    assert.equal(errorKind(outcome.failures[0]?.error), "transient");
    await Promise.race([sawClose, delay(2000).then(() => assert.fail("the server never saw the request cancelled"))]);
  });

  test("the response is mapped into the message metadata", async () => {
    const server = await api((_request, response) => json(response, 201, { charge_id: "ch_1" }, { location: "/charges/ch_1", "x-other": "no" }));
    const sink = await sinkFor({ base_url: server.url }, { response: { into: "metadata.response", headers: ["Location"] } });
    const written = message({ amount: 1 });
    await sink.write([written], new AbortController().signal);
    assert.deepEqual(written.metadata.response, { status: 201, headers: { location: "/charges/ch_1" }, body: { charge_id: "ch_1" } });
  });

  test("health: health_path 2xx is healthy, else unhealthy; without one a TCP connect", async () => {
    const server = await api((request, response) => json(response, request.url === "/healthz" ? 200 : 500, {}));
    const ok = await open({ base_url: server.url, health_path: "/healthz" });
    const bad = await open({ base_url: server.url, health_path: "/broken" });
    const plain = await open({ base_url: server.url });
    const down = await open({ base_url: `http://127.0.0.1:${await freePort()}` });
    connections.push(ok.connection, bad.connection, plain.connection, down.connection);
    const signal = new AbortController().signal;
    assert.equal((await ok.connection.health(signal)).status, "healthy");
    assert.equal((await bad.connection.health(signal)).status, "unhealthy");
    assert.equal((await plain.connection.health(signal)).status, "healthy");
    assert.equal((await down.connection.health(signal)).status, "unhealthy");
  });

  test("config checks: bad base_url, credentials in the URL, bad templates and body", () => {
    const check = httpConnector.check;
    assert.equal(check.config({ base_url: "ftp://x" }).length, 1);
    assert.equal(check.config({ base_url: "https://u:p@x" }).length, 1);
    assert.equal(check.config({ base_url: "https://api.example.com" }).length, 0);
    assert.deepEqual(
      check.sink({ path: "/{{ a ", body: "{ 'a': " }).map((issue) => issue.path[0]),
      ["path", "body"],
    );
  });
});
