import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { loadConfigFromString } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

async function runtimeFor(yaml: string): Promise<JunctionRuntime> {
  const loaded = await loadConfigFromString(yaml, join(dir.path, `${Math.random().toString(36).slice(2)}.yaml`), builtinComponents, { env: {} });
  return JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
}

describe("JunctionRuntime", () => {
  test("a scheduled integration runs a pass per tick, each resuming from the checkpoint, and stops on shutdown", { timeout: 30_000 }, async () => {
    const runtime = await runtimeFor(`version: 1
state: sqlite:./scheduled-state.db
admin: false
connections:
  gen: { type: generate }
  db: { type: sqlite, path: ./scheduled.db }
integrations:
  ticks:
    source: { connection: gen, count: 10, resume: true }
    target: { connection: db, table: items, mode: upsert, key: id, create_table: true }
    sync: { trigger: schedule, schedule: "* * * * * *" }
`);
    const done = runtime.run();
    let passes = 0;
    for (let i = 0; i < 100 && passes < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      passes = (await runtime.state.listRuns({ integration: "ticks", status: "succeeded" })).length;
    }
    runtime.shutdown("test over");
    const result = await done;
    await runtime.close();
    assert.ok(passes >= 2, `expected at least two scheduled passes, saw ${passes}`);
    assert.ok(result.ok, result.errors.join("; "));
    assert.ok(result.summaries.every((s) => s.run.trigger === "schedule"));
    const db = openSqlite(join(dir.path, "scheduled.db"), { readonly: true });
    const rows = db.prepare("SELECT count(*) AS n, count(DISTINCT id) AS k, max(id) AS hi FROM items").get() as { n: number; k: number; hi: number };
    db.close();
    const written = result.summaries.reduce((sum, s) => sum + s.run.counts.written, 0);
    assert.equal(rows.n, rows.k);
    assert.equal(rows.n, written, "each pass continued where the previous one stopped: no id written twice");
    assert.equal(rows.n, 10, "the first pass generated the ten items");
    assert.equal(rows.hi, 10);
    assert.deepEqual(result.summaries.slice(1).map((s) => s.run.counts.read), Array(result.summaries.length - 1).fill(0), "later passes resume from the checkpoint and find nothing new");
  });

  test("a run stopped by a transient source error starts again from its checkpoint after a backoff", { timeout: 30_000 }, async () => {
    const sourceFile = join(dir.path, "locked-source.db");
    const seed = openSqlite(sourceFile);
    seed.pragma("journal_mode = DELETE");
    seed.exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)");
    seed.transaction(() => {
      for (let i = 1; i <= 50; i++) seed.prepare("INSERT INTO items VALUES (?, ?)").run(i, `item ${i}`);
    });
    seed.exec("BEGIN EXCLUSIVE"); // readers now get SQLITE_BUSY
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  src: { type: sqlite, path: ./locked-source.db, readonly: true, busy_timeout: 10ms }
  out: { type: discard }
integrations:
  copy:
    source: { connection: src, table: items, key: id }
    target: { connection: out }
    resilience: { retry: { attempts: 10, backoff: constant, base_delay: 50ms, max_delay: 50ms, jitter: none } }
`);
    setTimeout(() => {
      seed.exec("COMMIT");
      seed.close();
    }, 120);
    try {
      const result = await runtime.run({ once: true });
      assert.ok(result.ok, result.errors.join("; "));
      const statuses = result.summaries.map((s) => s.status);
      assert.equal(statuses.at(-1), "succeeded");
      assert.ok(statuses.filter((s) => s === "failed").length >= 1, `at least one run met the lock: ${statuses.join(", ")}`);
      assert.ok(result.summaries.slice(0, -1).every((s) => s.errorKind === "transient"));
      assert.equal(result.summaries.at(-1)?.run.counts.written, 50);
    } finally {
      await runtime.close();
    }
  });

  test("a permanent failure is not restarted", async () => {
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  src: { type: sqlite, path: ./empty-source.db }
  out: { type: discard }
integrations:
  copy:
    source: { connection: src, table: missing_table, key: id }
    target: { connection: out }
`);
    try {
      const result = await runtime.run({ once: true });
      assert.equal(result.ok, false);
      assert.equal(result.summaries.length, 1, "one attempt only");
      assert.match(result.errors[0] ?? "", /missing_table/);
    } finally {
      await runtime.close();
    }
  });

  test("an unknown integration name is a config error with a suggestion", async () => {
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  gen: { type: generate }
  out: { type: discard }
integrations:
  orders: { source: { connection: gen, count: 1 }, target: { connection: out } }
`);
    try {
      await assert.rejects(runtime.run({ integrations: ["ordres"] }), /no integration named "ordres" \(did you mean "orders"\?\)/);
    } finally {
      await runtime.close();
    }
  });

  test("with --once every integration runs to the end and the admin server is optional", async () => {
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  gen: { type: generate }
  out: { type: discard }
integrations:
  a: { source: { connection: gen, count: 1000 }, target: { connection: out }, sync: { trigger: continuous } }
  b: { source: { connection: gen, count: 10 }, target: { connection: out } }
`);
    try {
      const result = await runtime.run({ once: true });
      assert.deepEqual(result.summaries.map((s) => [s.run.integration, s.run.counts.written]).sort(), [["a", 1000], ["b", 10]]);
      assert.equal(runtime.adminUrl, undefined);
      const again = await runtime.run({ once: true, integrations: ["b"] });
      assert.ok(again.ok, "a runtime can run again");
    } finally {
      await runtime.close();
    }
  });
});
