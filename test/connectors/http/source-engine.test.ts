// The http source through the runtime, from junction.yaml: a paginated API copied into a SQLite
// table, then an incremental run that reads only what changed, counted in the table.
import assert from "node:assert/strict";
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
});
