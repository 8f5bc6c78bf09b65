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
    } finally {
      await runtime.close();
    }
  });
});
