// The http source through the runtime, from junction.yaml: a paginated API copied into a SQLite
// table, then an incremental run that reads only what changed, counted in the table.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import type { RuntimeResult } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { tempDir } from "../../support/temp-dir.js";
import { recordsFrom, startPagedApi } from "./paged-api.js";
import type { ApiRecord, PagedApi } from "./paged-api.js";

describe("http source through the runtime", () => {
  const dir = tempDir();
  const apis: PagedApi[] = [];
  after(async () => {
    for (const api of apis) await api.close();
    dir.remove();
  });

  async function runOnce(apiUrl: string): Promise<RuntimeResult> {
    const yaml = `version: 1
state: sqlite:./state.db
admin: false
connections:
  items_api: { type: http, base_url: ${apiUrl}/v1, auth: { type: bearer, token: test-token-1 } }
  db: { type: sqlite, path: ./items.db }
integrations:
  pull_items:
    source:
      connection: items_api
      path: /items/cursor
      records: data
      pagination: { type: cursor, cursor: meta.next_cursor, param: after }
      watermark: { field: updated_at, param: updated_since, sorted: true }
      retry: { attempts: 2, base_delay: 1ms, max_delay: 5ms }
    target: { connection: db, table: items, mode: upsert, key: id, create_table: true }
    sync: { trigger: once, batch_size: 4 }
`;
    const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
    try {
      return await runtime.run({ once: true });
    } finally {
      await runtime.close();
    }
  }

  function rows(): { id: string; updated_at: string }[] {
    const db = openSqlite(join(dir.path, "items.db"), { readonly: true });
    try {
      return db.prepare("SELECT id, updated_at FROM items ORDER BY id").all() as { id: string; updated_at: string }[];
    } finally {
      db.close();
    }
  }

  test("copies every page into SQLite, then a second run writes only the new and changed records", { timeout: 30_000 }, async () => {
    const paged = await startPagedApi(recordsFrom(23));
    apis.push(paged);
    const first = await runOnce(paged.api.url);
    assert.ok(first.ok, first.errors.join("; "));
    assert.equal(first.summaries[0]?.run.counts.written, 23);
    assert.equal(rows().length, 23);
    assert.equal(paged.api.requests[0]?.headers.authorization, "Bearer test-token-1");

    paged.records.push({ id: "r900", updated_at: "2024-01-01T00:00:23Z" }, { id: "r901", updated_at: "2024-01-01T00:01:00Z" });
    (paged.records[4] as ApiRecord).updated_at = "2024-01-01T00:02:00Z";
    const before = paged.pageRequests().length;
    const second = await runOnce(paged.api.url);
    assert.ok(second.ok, second.errors.join("; "));
    assert.equal(second.summaries[0]?.run.counts.read, 3, "r900 (at the boundary), r901 and the updated r005");
    assert.equal(paged.pageRequests()[before]?.searchParams.get("updated_since"), "2024-01-01T00:00:23Z");
    const table = rows();
    assert.equal(table.length, 25);
    assert.equal(table.find((row) => row.id === "r005")?.updated_at, "2024-01-01T00:02:00Z");
  });

  test("page requests are retried by the connection's resilience.retry when the source sets no retry of its own", { timeout: 30_000 }, async () => {
    let calls = 0;
    const server = createServer((_request, response) => {
      calls += 1;
      // Three 503s: more than the source's default of 3 attempts, within the connection's 4.
      if (calls <= 3) return void response.writeHead(503, { "content-type": "application/json" }).end("{}");
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ id: "only" }]));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const yaml = `version: 1
state: sqlite:./retry-state.db
admin: false
connections:
  flaky_api:
    type: http
    base_url: ${url}
    resilience: { retry: { attempts: 4, backoff: constant, base_delay: 1ms, max_delay: 1ms, jitter: none } }
  db: { type: sqlite, path: ./retry.db }
integrations:
  pull_flaky:
    source: { connection: flaky_api, path: /items }
    target: { connection: db, table: items, mode: upsert, key: id, create_table: true }
    resilience: { retry: { attempts: 1 } }
`;
      const loaded = await loadConfigFromString(yaml, join(dir.path, "retry.yaml"), builtinComponents, { env: {} });
      const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
      let result: RuntimeResult;
      try {
        result = await runtime.run({ once: true });
      } finally {
        await runtime.close();
      }
      assert.ok(result.ok, result.errors.join("; "));
      assert.equal(calls, 4, "four attempts of the one page, no restart of the run");
      assert.equal(result.summaries.length, 1);
      assert.equal(result.summaries[0]?.run.counts.written, 1);
    } finally {
      server.close();
    }
  });
});
