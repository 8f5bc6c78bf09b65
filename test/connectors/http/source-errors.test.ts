import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { httpConnector } from "../../../src/connectors/http/index.js";
import type { HttpConnectionConfig, HttpSourceOptions } from "../../../src/connectors/http/schema.js";
import type { Connection } from "../../../src/connectors/types.js";
import { errorKind } from "../../../src/core/errors.js";
import { drain } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import type { Handler, LocalApi } from "./local-api.js";
import { idsOf, openHttpSource } from "./paged-api.js";

const API_KEY = "sk_live_source_key_4f1a9c";

describe("http source failures", () => {
  const servers: LocalApi[] = [];
  const connections: Connection<HttpSourceOptions, never>[] = [];
  after(async () => {
    for (const connection of connections) await connection.close();
    for (const server of servers) await server.close();
  });
  async function api(handler: Handler): Promise<LocalApi> {
    const server = await startLocalApi(handler);
    servers.push(server);
    return server;
  }
  async function readAll(config: HttpConnectionConfig, options: HttpSourceOptions): Promise<string[]> {
    const { connection, source } = await openHttpSource(config, options);
    connections.push(connection);
    return idsOf(await drain(source));
  }
  async function failure(config: HttpConnectionConfig, options: HttpSourceOptions): Promise<Error> {
    try {
      await readAll(config, options);
    } catch (error) {
      assert.ok(error instanceof Error);
      return error;
    }
    assert.fail("the source did not fail");
  }

  test("429 with Retry-After: the page is asked again no sooner than the API said, whatever the backoff", { timeout: 20_000 }, async () => {
    const times: number[] = [];
    const server = await api((_request, response) => {
      times.push(performance.now());
      if (times.length === 1) return json(response, 429, { error: "slow down" }, { "retry-after": "1" });
      json(response, 200, [{ id: 1 }, { id: 2 }]);
    });
    const ids = await readAll({ base_url: server.url }, { path: "/items", retry: { attempts: 3, base_delay: 1, max_delay: 1 } });
    assert.deepEqual(ids, ["1", "2"]);
    assert.equal(times.length, 2);
    // A lower bound only: with a 1 ms backoff, only Retry-After explains the wait.
    assert.ok((times[1] as number) - (times[0] as number) >= 950, `waited ${Math.round((times[1] as number) - (times[0] as number))} ms`);
  });

  test("a body without `records` that is not an array names the fix; a `records` that finds nothing too", async () => {
    const server = await api((_request, response) => json(response, 200, { data: [{ id: 1 }], next: null }));
    const object = await failure({ base_url: server.url }, { path: "/items" });
    assert.equal(errorKind(object), "permanent");
    assert.match(object.message, /the response of http:\/\/127\.0\.0\.1:\d+\/items is an object, not an array of records: set the source's `records`/);
    assert.match(object.message, /e\.g\. records: data/);
    const missing = await failure({ base_url: server.url }, { path: "/items", records: "results" });
    assert.match(missing.message, /records \(results\) found nothing in the response of .*\/items; it must give the array of records \(the body has `data`, `next`; e\.g\. records: data\)/);
    const scalar = await failure({ base_url: server.url }, { path: "/items", records: "next = null" });
    assert.match(scalar.message, /records \(next = null\) found a boolean/);
    assert.deepEqual(await readAll({ base_url: server.url }, { path: "/items", records: "data" }), ["1"]);
  });

  test("a record whose id expression fails is handed over as invalid (dead-lettered by the engine), the others go on", async () => {
    const server = await api((_request, response) => json(response, 200, [{ sku: "a" }, { name: "no sku" }, { sku: "c" }]));
    const { connection, source } = await openHttpSource({ base_url: server.url }, { id: "sku" });
    connections.push(connection);
    const [batch] = await drain(source);
    assert.equal(batch?.messages.length, 3);
    assert.deepEqual(batch?.messages.map((message) => message.id).filter((id) => !id.startsWith("sha256:")), ["a", "c"]);
    const invalid = [...(batch?.invalid ?? new Map<never, Error>()).entries()];
    assert.equal(invalid.length, 1);
    assert.deepEqual(invalid[0]?.[0].payload, { name: "no sku" });
    assert.match(invalid[0]?.[1].message ?? "", /the id expression \(sku\) gave nothing/);
  });

  test("401 is an auth error; 404 permanent with the status and the URL, the api key redacted; a body that is not JSON is permanent", async () => {
    const server = await api((request, response) => {
      if (request.url.startsWith("/private")) return json(response, 401, { error: "bad key" });
      if (request.url.startsWith("/text")) {
        response.writeHead(200, { "content-type": "text/html" });
        response.end("<html>login</html>");
        return;
      }
      json(response, 404, { error: `unknown path, key ${API_KEY}` });
    });
    const config: HttpConnectionConfig = { base_url: server.url, auth: { type: "api_key", in: "query", name: "key", value: API_KEY } };
    const unauthorized = await failure(config, { path: "/private" });
    assert.equal(errorKind(unauthorized), "auth");
    const notFound = await failure(config, { path: "/nope" });
    assert.equal(errorKind(notFound), "permanent");
    assert.match(notFound.message, /GET http:\/\/127\.0\.0\.1:\d+\/nope\?key=\[redacted\] answered 404/);
    assert.ok(!notFound.message.includes(API_KEY), notFound.message);
    const html = await failure(config, { path: "/text" });
    assert.equal(errorKind(html), "permanent");
    assert.match(html.message, /answered text\/html that is not JSON: <html>login<\/html>/);
  });

  test("503 then success: retried within the poll; retries exhausted on a network error: transient", async () => {
    let calls = 0;
    const flaky = await api((_request, response) => {
      calls += 1;
      if (calls === 1) return json(response, 503, { error: "busy" });
      json(response, 200, [{ id: "x" }]);
    });
    assert.deepEqual(await readAll({ base_url: flaky.url }, { retry: { attempts: 2, base_delay: 1, max_delay: 1 } }), ["x"]);
    const closed = await api((_request, response) => json(response, 200, []));
    const url = closed.url;
    await closed.close();
    const refused = await failure({ base_url: url }, { retry: { attempts: 2, base_delay: 1, max_delay: 1 } });
    assert.equal(errorKind(refused), "transient");
  });

  test("a next link to another origin is not followed (credentials would go there)", async () => {
    const server = await api((_request, response) => json(response, 200, { data: [{ id: 1 }], next: "https://elsewhere.example.com/items?page=2" }));
    const error = await failure(
      { base_url: `${server.url}/v1`, auth: { type: "bearer", token: "secret-bearer-token" } },
      { records: "data", pagination: { type: "next_link", next: "next" } },
    );
    assert.equal(errorKind(error), "permanent");
    assert.match(error.message, /the next page is GET https:\/\/elsewhere\.example\.com\/items\?page=2, which is not under base_url/);
  });

  test("a pagination loop is caught; max_pages stops a poll that never ends", async () => {
    const server = await api((request, response) => {
      const page = Number(new URL(request.url, "http://x").searchParams.get("page") ?? "1");
      if (request.url.startsWith("/loop")) return json(response, 200, { data: [{ id: page }], next: "/loop?page=1" });
      json(response, 200, { data: [{ id: page, v: page }], next: `/endless?page=${page + 1}` });
    });
    const loop = await failure({ base_url: server.url }, { path: "/loop", records: "data", pagination: { type: "next_link", next: "next" } });
    assert.match(loop.message, /pagination loops: page 3 would request GET http:\/\/127\.0\.0\.1:\d+\/loop\?page=1 again/);
    const endless = await failure({ base_url: server.url }, { path: "/endless", records: "data", max_pages: 4, pagination: { type: "next_link", next: "next" } });
    assert.match(endless.message, /max_pages \(4\)/);
    assert.equal(errorKind(endless), "permanent");
    // Sorted by the watermark: the poll stops part-way and the next one goes on from the watermark.
    const { connection, source, ctx } = await openHttpSource(
      { base_url: server.url },
      { path: "/endless", records: "data", max_pages: 3, pagination: { type: "next_link", next: "next" }, watermark: { field: "v", sorted: true } },
    );
    connections.push(connection);
    assert.deepEqual(idsOf(await drain(source)), ["1", "2", "3"]);
    assert.deepEqual(ctx.checkpoints.value, { field: "v", watermark: 3, seen: ["3"] });
  });

  test("config checks: templates, JSONata, body without POST, a watermark template without a first value", () => {
    const check = httpConnector.check.source;
    assert.deepEqual(check({ records: "data[", pagination: { type: "cursor", cursor: "meta.(", param: "c" } }).map((issue) => issue.path.join(".")), ["records", "pagination.cursor"]);
    assert.deepEqual(check({ body: "{ 'a': 1 }" }), [{ path: ["body"], message: "a body is sent only with method: POST" }]);
    assert.match(check({ query: { since: "{{ watermark }}" }, watermark: { field: "updated_at" } })[0]?.message ?? "", /set watermark.initial/);
    assert.match(check({ path: "/x/{{ watermark }}" })[0]?.message ?? "", /the source has no `watermark`/);
    assert.deepEqual(check({ query: { since: "{{ watermark }}" }, watermark: { field: "updated_at", initial: "2024-01-01" } }), []);
    assert.deepEqual(check({ path: "/x/{{ oops" }).map((issue) => issue.path.join(".")), ["path"]);
  });
});
