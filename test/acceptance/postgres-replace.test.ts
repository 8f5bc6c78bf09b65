// @needs-service postgres
// A full refresh through the runtime into a replace target: rows deleted at the source
// disappear from the target after the next run, and the target is swapped, never emptied.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { loadConfigFromString } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { postgresTestUrl, serviceSkipReason } from "../support/services.js";
import { tempDir } from "../support/temp-dir.js";

describe("postgres full refresh into a replace target, through the runtime", { skip: await serviceSkipReason("postgres") }, () => {
  const schema = `junction_replace_e2e_${process.pid}_${Date.now().toString(36)}`;
  const dir = tempDir();
  const admin = new pg.Pool({ connectionString: postgresTestUrl(), max: 2, options: `-c search_path=${schema}` });

  before(async () => {
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query("CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10, 2))");
    await admin.query("INSERT INTO products SELECT i, 'product ' || i, i * 1.25 FROM generate_series(1, 3000) AS i");
  });
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    dir.remove();
  });

  async function runOnce(): Promise<void> {
    const url = new URL(postgresTestUrl());
    const yaml = `version: 1
state: sqlite:./state.db
admin: false
connections:
  app: { type: postgres, url: "${url.toString()}", schema: ${schema} }
integrations:
  products_copy:
    source: { connection: app, table: products, key: id, mode: full_refresh, batch_size: 500 }
    target: { connection: app, table: products_copy, key: id, mode: replace, create_table: true }
`;
    const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
    try {
      const result = await runtime.run({ once: true });
      assert.ok(result.ok, result.errors.join("; "));
      assert.deepEqual(
        result.summaries.map((summary) => summary.status),
        ["succeeded"],
      );
    } finally {
      await runtime.close();
    }
  }

  async function difference(): Promise<{ missing: number; extra: number }> {
    const missing = await admin.query("SELECT count(*)::int AS n FROM (SELECT id, name, price FROM products EXCEPT SELECT id, name, price FROM products_copy) AS d");
    const extra = await admin.query("SELECT count(*)::int AS n FROM (SELECT id, name, price FROM products_copy EXCEPT SELECT id, name, price FROM products) AS d");
    return { missing: missing.rows[0].n as number, extra: extra.rows[0].n as number };
  }

  test("the first run creates the target; after deletes and changes at the source the next run mirrors them", { timeout: 60_000 }, async () => {
    await runOnce();
    assert.deepEqual(await difference(), { missing: 0, extra: 0 });
    assert.equal((await admin.query("SELECT count(*)::int AS n FROM products_copy")).rows[0].n, 3000);

    await admin.query("DELETE FROM products WHERE id % 10 = 0");
    await admin.query("UPDATE products SET name = 'renamed' WHERE id = 1");
    await admin.query("INSERT INTO products VALUES (5000, 'new', 1)");
    await runOnce();
    assert.deepEqual(await difference(), { missing: 0, extra: 0 }, "deleted rows are gone, changed and new rows are there");
    assert.equal((await admin.query("SELECT count(*)::int AS n FROM products_copy")).rows[0].n, 2701);
    const left = await admin.query("SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relname LIKE '%junction%'", [schema]);
    assert.deepEqual(left.rows, [], "no staging or old table is left behind");
  });
});
