// Fan-out and switch through the declarative runtime, with SQLite databases as source and
// targets: a row rejected by one target is dead-lettered for that target and replayed to it alone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfigFromString } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { replayDeadLetters } from "../../src/engine/replay.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

let files = 0;
function fileName(what: string): string {
  return `${what}-${++files}.db`;
}

async function runtimeFor(yaml: string): Promise<JunctionRuntime> {
  const loaded = await loadConfigFromString(yaml, join(dir.path, `${fileName("config")}.yaml`), builtinComponents, { env: {} });
  return JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
}

/** A source database with an events table: ids 1..count, type alternating created/cancelled/other, amount id * 500. */
function seedEvents(file: string, count: number): void {
  const db = openSqlite(join(dir.path, file));
  db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL, amount REAL NOT NULL)");
  const types = ["order.created", "order.cancelled", "other"];
  db.transaction(() => {
    for (let id = 1; id <= count; id++) db.prepare("INSERT INTO events VALUES (?, ?, ?)").run(id, types[(id - 1) % 3], id * 500);
  });
  db.close();
}

function query<T>(file: string, sql: string): T[] {
  const db = openSqlite(join(dir.path, file), { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

function exec(file: string, sql: string): void {
  const db = openSqlite(join(dir.path, file));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe("several targets in the runtime", () => {
  test("fan-out: a row rejected by one target is dead-lettered for it, the other has it; replay writes to that target only", { timeout: 30_000 }, async () => {
    const source = fileName("events");
    const out = fileName("out");
    seedEvents(source, 12);
    // Plain inserts without keys: a second write of a row would show as a duplicate.
    exec(out, "CREATE TABLE all_events (id INTEGER, type TEXT, amount REAL); CREATE TABLE audit (id INTEGER, type TEXT, amount REAL CHECK (amount < 5000))");
    const runtime = await runtimeFor(`version: 1
state: sqlite:./${fileName("state")}
admin: false
connections:
  src: { type: sqlite, path: ./${source} }
  out: { type: sqlite, path: ./${out} }
integrations:
  orders:
    source: { connection: src, table: events, key: id }
    targets:
      - connection: out
        table: all_events
        mode: insert
      - name: audit
        when: "amount > 3000"
        connection: out
        table: audit
        mode: insert
`);
    try {
      const result = await runtime.run({ once: true });
      assert.ok(result.ok, result.errors.join("; "));
      const [summary] = result.summaries;
      assert.equal(summary?.status, "partial");
      assert.equal(summary?.run.counts.read, 12);
      assert.equal(summary?.run.counts.written, 12 + 3, "12 rows to all_events, ids 7..9 to audit (5000 and up are rejected)");
      assert.equal(summary?.run.counts.deadLettered, 3);
      assert.deepEqual(query<{ n: number }>(out, "SELECT count(*) AS n FROM all_events"), [{ n: 12 }]);
      assert.deepEqual(query<{ id: number }>(out, "SELECT id FROM audit ORDER BY id"), [{ id: 7 }, { id: 8 }, { id: 9 }]);
      const letters = await runtime.state.listDeadLetters({ integration: "orders" });
      assert.deepEqual(letters.map((l) => l.stage), ["sink:audit", "sink:audit", "sink:audit"]);

      // Fix the audit table (no more limit), then replay: the rows go to audit, and only there.
      exec(out, "ALTER TABLE audit RENAME TO audit_old; CREATE TABLE audit (id INTEGER, type TEXT, amount REAL); INSERT INTO audit SELECT * FROM audit_old; DROP TABLE audit_old");
      const replayed = await replayDeadLetters(runtime, letters.reverse(), new AbortController().signal);
      assert.deepEqual(replayed.map((r) => r.outcome), ["replayed", "replayed", "replayed"], JSON.stringify(replayed));
      assert.deepEqual(query<{ id: number }>(out, "SELECT id FROM audit ORDER BY id"), [7, 8, 9, 10, 11, 12].map((id) => ({ id })));
      assert.deepEqual(query<{ n: number; k: number }>(out, "SELECT count(*) AS n, count(DISTINCT id) AS k FROM all_events"), [{ n: 12, k: 12 }], "all_events got nothing again");
      assert.equal(await runtime.state.countDeadLetters({ integration: "orders", status: "pending" }), 0);
    } finally {
      await runtime.close();
    }
  });

  test("switch: each row goes to the table of the first matching case, the rest to the default", { timeout: 30_000 }, async () => {
    const source = fileName("events");
    const out = fileName("out");
    seedEvents(source, 9);
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  src: { type: sqlite, path: ./${source} }
  db: { type: sqlite, path: ./${out} }
integrations:
  routed:
    source: { connection: src, table: events, key: id }
    switch:
      - when: "type = 'order.created'"
        target: { connection: db, table: orders, key: id, create_table: true }
      - when: "type = 'order.cancelled'"
        target: { connection: db, table: cancellations, key: id, create_table: true }
      - target: { connection: db, table: other_events, key: id, create_table: true }
`);
    try {
      const integration = runtime.config.integrations.routed;
      assert.deepEqual(integration?.targets.map((t) => t.name), ["db_0", "db_1", "db_2"]);
      const result = await runtime.run({ once: true });
      assert.ok(result.ok, result.errors.join("; "));
      assert.equal(result.summaries[0]?.run.counts.written, 9);
      assert.deepEqual(query<{ id: number }>(out, "SELECT id FROM orders ORDER BY id"), [1, 4, 7].map((id) => ({ id })));
      assert.deepEqual(query<{ id: number }>(out, "SELECT id FROM cancellations ORDER BY id"), [2, 5, 8].map((id) => ({ id })));
      assert.deepEqual(query<{ id: number }>(out, "SELECT id FROM other_events ORDER BY id"), [3, 6, 9].map((id) => ({ id })));
    } finally {
      await runtime.close();
    }
  });

  test("each target has its own call policy, built from its connection's resilience under the integration's", async () => {
    const runtime = await runtimeFor(`version: 1
state: "sqlite::memory:"
admin: false
connections:
  gen: { type: generate }
  calm: { type: discard }
  fragile:
    type: discard
    resilience: { circuit_breaker: { failure_threshold: 2 }, retry: { attempts: 9 } }
integrations:
  spread:
    source: { connection: gen, count: 5 }
    targets:
      - connection: calm
      - connection: fragile
    resilience: { retry: { attempts: 3 } }
`);
    try {
      const integration = runtime.config.integrations.spread;
      assert.ok(integration);
      const [calm, fragile] = integration.targets;
      assert.ok(calm && fragile);
      assert.equal(calm.resilience.retry.attempts, 3);
      assert.equal(fragile.resilience.retry.attempts, 3, "the integration's block overrides the connection's key by key");
      assert.equal(calm.resilience.circuitBreaker, undefined);
      assert.ok(fragile.resilience.circuitBreaker);
      const calmPolicy = runtime.callPolicyFor(integration, calm);
      const fragilePolicy = runtime.callPolicyFor(integration, fragile);
      assert.notEqual(calmPolicy, fragilePolicy);
      assert.equal(calmPolicy.breaker, undefined);
      assert.ok(fragilePolicy.breaker);
      assert.equal(runtime.callPolicyFor(integration, fragile), fragilePolicy, "one per integration and target for the runtime's life");
      const result = await runtime.run({ once: true });
      assert.equal(result.summaries[0]?.run.counts.written, 10);
      assert.match(await runtime.metrics.metrics(), /junction_circuit_state\{name="spread:fragile"\} 0/);
    } finally {
      await runtime.close();
    }
  });
});
