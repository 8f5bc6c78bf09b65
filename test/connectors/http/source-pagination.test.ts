import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { HttpSourceOptions } from "../../../src/connectors/http/schema.js";
import type { Connection } from "../../../src/connectors/types.js";
import { drain } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import { idsOf, openHttpSource, recordsFrom, startPagedApi } from "./paged-api.js";
import type { PagedApi } from "./paged-api.js";

const RECORDS = 23;
const expectedIds = recordsFrom(RECORDS).map((record) => record.id);

describe("http source pagination", () => {
  let paged: PagedApi;
  const connections: Connection<HttpSourceOptions, never>[] = [];
  before(async () => {
    paged = await startPagedApi(recordsFrom(RECORDS));
  });
  after(async () => {
    for (const connection of connections) await connection.close();
    await paged.close();
  });

  async function read(options: HttpSourceOptions, batchSize = 100): Promise<{ ids: string[]; pages: number[]; requests: URL[]; batches: number }> {
    const before = paged.pageRequests().length;
    const { connection, source } = await openHttpSource({ base_url: `${paged.api.url}/v1` }, options, { batchSize });
    connections.push(connection);
    const batches = await drain(source);
    return {
      ids: idsOf(batches),
      pages: batches.flatMap((batch) => batch.messages.map((message) => message.metadata.page as number)),
      requests: paged.pageRequests().slice(before),
      batches: batches.length,
    };
  }

  const styles: [string, HttpSourceOptions][] = [
    ["next_link (relative link in the body)", { path: "/items/next_link", records: "data", pagination: { type: "next_link", next: "links.next" } }],
    ["link_header (RFC 8288, several rels)", { path: "/items/link_header", pagination: { type: "link_header" } }],
    ["cursor (JSONata into the body, sent as a query parameter)", { path: "/items/cursor", records: "data", pagination: { type: "cursor", cursor: "meta.next_cursor", param: "after" } }],
    ["offset (stops at a short page)", { path: "/items/offset", records: "items", pagination: { type: "offset", limit: 5 } }],
    ["page (page number and size; stops at a short page)", { path: "/items/page", pagination: { type: "page", size_param: "per_page", size: 5 } }],
  ];
  for (const [name, options] of styles) {
    test(`${name}: walks 5 pages and delivers every record once, in order`, async () => {
      const { ids, pages, requests, batches } = await read(options);
      assert.deepEqual(ids, expectedIds);
      assert.equal(requests.length, 5, requests.map((url) => url.search).join(" "));
      assert.equal(batches, 5, "one batch per page");
      assert.deepEqual([...new Set(pages)], [1, 2, 3, 4, 5]);
    });
  }

  test("parameters of each style as the API receives them", async () => {
    const offsets = (await read({ path: "/items/offset", records: "items", pagination: { type: "offset", param: "offset", limit_param: "limit", limit: 5 } })).requests;
    assert.deepEqual(
      offsets.map((url) => [url.searchParams.get("offset"), url.searchParams.get("limit")]),
      [["0", "5"], ["5", "5"], ["10", "5"], ["15", "5"], ["20", "5"]],
    );
    const cursors = (await read({ path: "/items/cursor", records: "data", pagination: { type: "cursor", cursor: "meta.next_cursor", param: "after" } })).requests;
    assert.deepEqual(
      cursors.map((url) => url.searchParams.get("after")),
      [null, "r005", "r010", "r015", "r020"],
    );
    const pages = (await read({ path: "/items/page", query: { sort: "updated_at" }, pagination: { type: "page", start: 1, size_param: "per_page", size: 5 } })).requests;
    assert.deepEqual(
      pages.map((url) => url.search),
      ["?sort=updated_at&page=1&per_page=5", "?sort=updated_at&page=2&per_page=5", "?sort=updated_at&page=3&per_page=5", "?sort=updated_at&page=4&per_page=5", "?sort=updated_at&page=5&per_page=5"],
    );
  });

  test("without `size`, only an empty page ends the poll", async () => {
    const { ids, requests } = await read({ path: "/items/page", pagination: { type: "page" } });
    assert.deepEqual(ids, expectedIds);
    assert.equal(requests.length, 6, "five full pages, then an empty one");
  });

  test("a page larger than the batch size is split into batches; messages carry url, page and a stable id", async () => {
    const { connection, source } = await openHttpSource(
      { base_url: `${paged.api.url}/v1`, auth: { type: "api_key", in: "query", name: "api_key", value: "sk_test_pagination_key" } },
      { path: "/items/all", watermark: { field: "updated_at" } },
      { batchSize: 10 },
    );
    connections.push(connection);
    const batches = await drain(source);
    assert.deepEqual(batches.map((batch) => batch.messages.length), [10, 10, 3, 0], "the last, empty batch moves the watermark");
    const first = batches[0]?.messages[0];
    assert.equal(first?.id, "r001");
    assert.equal(first?.key, "r001");
    assert.equal(first?.correlationId, "r001");
    assert.deepEqual(first?.payload, recordsFrom(1)[0]);
    assert.equal(first?.metadata.page, 1);
    assert.equal(first?.metadata.watermark, "2024-01-01T00:00:01Z");
    assert.equal(first?.metadata.url, `${paged.api.url}/v1/items/all?api_key=[redacted]`, "the api key never shows");
    assert.equal(new URL(paged.api.requests.at(-1)?.url ?? "", paged.api.url).searchParams.get("api_key"), "sk_test_pagination_key");
  });

  test("records without an id get a SHA-256 of their content, the same on every poll; `id` picks another field", async () => {
    const hashed = await read({ path: "/items/all", records: "$.{ 'name': name }" });
    assert.equal(hashed.ids.length, RECORDS);
    assert.ok(hashed.ids.every((id) => /^sha256:[0-9a-f]{32}$/.test(id)));
    assert.deepEqual((await read({ path: "/items/all", records: "$.{ 'name': name }" })).ids, hashed.ids, "stable across polls");
    assert.equal(new Set(hashed.ids).size, RECORDS);
    assert.deepEqual((await read({ path: "/items/all", id: "name" })).ids, recordsFrom(RECORDS).map((record) => record.name));
  });

  test("an absolute next link on the same origin is followed as it is, without adding the poll's query again", async () => {
    const server = await startLocalApi((request, response) => {
      const page = Number(new URL(request.url, "http://x").searchParams.get("page") ?? "1");
      json(response, 200, { value: [{ id: `p${page}` }], "@odata.nextLink": page < 3 ? `${server.url}/v1/odata/items?page=${page + 1}&$skiptoken=a%2Bb` : undefined });
    });
    try {
      const { connection, source } = await openHttpSource(
        { base_url: `${server.url}/v1/` },
        { path: "odata/items", query: { $top: "1" }, records: "value", pagination: { type: "next_link", next: "$.`@odata.nextLink`" } },
      );
      connections.push(connection);
      assert.deepEqual(idsOf(await drain(source)), ["p1", "p2", "p3"]);
      assert.deepEqual(
        server.requests.map((request) => request.url),
        ["/v1/odata/items?%24top=1", "/v1/odata/items?page=2&%24skiptoken=a%2Bb", "/v1/odata/items?page=3&%24skiptoken=a%2Bb"],
      );
    } finally {
      await server.close();
    }
  });

  test("POST with a JSONata body over the watermark and the pagination parameters", async () => {
    const before = paged.api.requests.length;
    const { ids } = await read({
      method: "POST",
      path: "/items/page",
      body: "{ 'since': watermark, 'page': $number(pagination.page) }",
      watermark: { field: "updated_at", initial: "2024-01-01T00:00:00Z" },
      pagination: { type: "page", size_param: "per_page", size: 5 },
    });
    assert.deepEqual(ids, expectedIds);
    const sent = paged.api.requests.slice(before);
    assert.equal(sent[0]?.method, "POST");
    assert.equal(sent[0]?.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(sent[1]?.body ?? ""), { since: "2024-01-01T00:00:00Z", page: 2 });
  });
});
