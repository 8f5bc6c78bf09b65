import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import { JunctionError, errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { runtimeContext, sinkContext, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

const signal = new AbortController().signal;

function messages(payloads: unknown[]): Message[] {
  return payloads.map((payload, i) => createMessage({ id: `m${i}`, payload }));
}

describe("sqlite sink", () => {
  let dir: string;
  let remove: () => Promise<void>;
  const open: SqliteConnection[] = [];

  before(async () => {
    ({ dir, remove } = await tempDir());
  });
  after(async () => {
    for (const connection of open) await connection.close();
    await remove();
  });

  async function sinkFor(file: string, options: SqliteSinkOptions, setup?: string, connection: Record<string, unknown> = {}): Promise<Sink> {
    if (setup) {
      const db = openSqlite(join(dir, file));
      db.exec(setup);
      db.close();
    }
    const opened = await sqliteConnector.connect({ path: file, ...connection }, runtimeContext(dir));
    open.push(opened);
    return (opened.sink as NonNullable<SqliteConnection["sink"]>)(options, sinkContext);
  }

  function rows(file: string, sql: string): unknown[] {
    const db = openSqlite(join(dir, file), { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  }

  test("upsert is idempotent: writing the same batch twice leaves the same rows", async () => {
    const sink = await sinkFor("upsert.db", { table: "users", key: "id" }, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, tags TEXT, active INTEGER)");
    const batch = messages(Array.from({ length: 50 }, (_, i) => ({ id: i + 1, name: `n${i + 1}`, tags: ["a", "b"], active: i % 2 === 0 })));
    assert.deepEqual(await sink.write(batch, signal), { failures: [] });
    const once = rows("upsert.db", "SELECT * FROM users ORDER BY id");
    assert.deepEqual(await sink.write(batch, signal), { failures: [] });
    assert.deepEqual(rows("upsert.db", "SELECT * FROM users ORDER BY id"), once);
    assert.equal(once.length, 50);
    assert.deepEqual(once[0], { id: 1, name: "n1", tags: '["a","b"]', active: 1 });

    await sink.write(messages([{ id: 1, name: "renamed" }]), signal);
    assert.deepEqual(rows("upsert.db", "SELECT * FROM users WHERE id = 1"), [{ id: 1, name: "renamed", tags: '["a","b"]', active: 1 }]);
  });

  test("one NOT NULL violation in a batch of 100: 99 rows written, one permanent failure at its index", async () => {
    const sink = await sinkFor("isolation.db", { table: "items", key: "id" }, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    const batch = messages(Array.from({ length: 100 }, (_, i) => ({ id: i, name: i === 42 ? null : `item-${i}` })));
    const outcome = await sink.write(batch, signal);
    assert.equal(outcome.failures.length, 1);
    assert.equal(outcome.failures[0]?.index, 42);
    const error = outcome.failures[0]?.error;
    assert.ok(error instanceof JunctionError);
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /NOT NULL constraint failed: items\.name/);
    assert.deepEqual(rows("isolation.db", "SELECT count(*) AS n FROM items"), [{ n: 99 }]);
    assert.deepEqual(rows("isolation.db", "SELECT count(*) AS n FROM items WHERE id = 42"), [{ n: 0 }]);
  });

  // Fields the table lacks are on_schema_change's business (schema-change.test.ts).
  test("a non-object payload fails only that message; bad field names are permanent too", async () => {
    const sink = await sinkFor("payloads.db", { table: "t", mode: "insert" }, "CREATE TABLE t (a TEXT, b TEXT)");
    const outcome = await sink.write(messages([{ a: "1" }, "just text", [1, 2], { "bad name": 1 }, { a: "2", b: "x" }]), signal);
    assert.deepEqual(
      outcome.failures.map((f) => f.index),
      [1, 2, 3],
    );
    for (const failure of outcome.failures) assert.equal(errorKind(failure.error), "permanent");
    assert.match(String((outcome.failures[2]?.error as Error).message), /bad name/);
    assert.deepEqual(rows("payloads.db", "SELECT a, b FROM t ORDER BY a"), [
      { a: "1", b: null },
      { a: "2", b: "x" },
    ]);
  });

  test("duplicate keys in one batch collapse to the last copy, which counts for all", async () => {
    const sink = await sinkFor("dupes.db", { table: "t", key: ["k1", "k2"] }, "CREATE TABLE t (k1 TEXT, k2 INTEGER, v TEXT, PRIMARY KEY (k1, k2))");
    const outcome = await sink.write(messages([{ k1: "a", k2: 1, v: "first" }, { k1: "b", k2: 1, v: "other" }, { k1: "a", k2: 1, v: "last" }]), signal);
    assert.deepEqual(outcome, { failures: [] });
    assert.deepEqual(rows("dupes.db", "SELECT * FROM t ORDER BY k1"), [
      { k1: "a", k2: 1, v: "last" },
      { k1: "b", k2: 1, v: "other" },
    ]);
  });

  test("create_table infers columns from the first batch and uses key as PRIMARY KEY", async () => {
    const sink = await sinkFor("create.db", { table: "events", key: "id", create_table: true, columns: ["id", "kind", "score", "data"] });
    const outcome = await sink.write(messages([{ id: 1, kind: "a", score: 1.5, data: { x: 1 }, ignored: true }, { id: 2, kind: "b", score: null, data: [1] }]), signal);
    assert.deepEqual(outcome, { failures: [] });
    const db = openSqlite(join(dir, "create.db"), { readonly: true });
    const columns = db.prepare("PRAGMA table_info(events)").all() as Array<{ name: string; type: string; pk: number }>;
    db.close();
    assert.deepEqual(
      columns.map((c) => [c.name, c.type, c.pk]),
      [
        ["id", "INTEGER", 1],
        ["kind", "TEXT", 0],
        ["score", "REAL", 0],
        ["data", "TEXT", 0],
      ],
    );
    assert.deepEqual(rows("create.db", "SELECT * FROM events ORDER BY id"), [
      { id: 1, kind: "a", score: 1.5, data: '{"x":1}' },
      { id: 2, kind: "b", score: null, data: "[1]" },
    ]);
  });

  test("a missing table without create_table is a config error for every message", async () => {
    const sink = await sinkFor("missing.db", { table: "nowhere" });
    const outcome = await sink.write(messages([{ a: 1 }, { a: 2 }]), signal);
    assert.equal(outcome.failures.length, 2);
    assert.equal(errorKind(outcome.failures[0]?.error), "config");
    assert.match((outcome.failures[0]?.error as Error).message, /create_table/);
  });

  test("SQLITE_BUSY makes every message of the batch transient", async () => {
    const sink = await sinkFor("busy.db", { table: "t", key: "id" }, "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY)", { busy_timeout: "10ms" });
    const blocker = openSqlite(join(dir, "busy.db"));
    blocker.exec("BEGIN IMMEDIATE");
    try {
      const outcome = await sink.write(messages([{ id: 1 }, { id: 2 }, { id: 3 }]), signal);
      assert.deepEqual(
        outcome.failures.map((f) => [f.index, errorKind(f.error)]),
        [
          [0, "transient"],
          [1, "transient"],
          [2, "transient"],
        ],
      );
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    assert.deepEqual(await sink.write(messages([{ id: 1 }]), signal), { failures: [] });
  });

  test("opening while another connection holds an exclusive lock is transient, and works once it is released", async () => {
    const holder = openSqlite(join(dir, "busy-open.db"));
    holder.exec("CREATE TABLE t (id INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (0)");
    const sink = await sinkFor("busy-open.db", { table: "t" }, undefined, { busy_timeout: 10 });
    try {
      const outcome = await sink.write(messages([{ id: 1 }]), signal);
      assert.equal(outcome.failures.length, 1);
      assert.equal(errorKind(outcome.failures[0]?.error), "transient");
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    assert.deepEqual(await sink.write(messages([{ id: 1 }]), signal), { failures: [] });
  });


  test("identifier injection in the target table, key or columns is rejected", async () => {
    await assert.rejects(
      async () => sinkFor("inject.db", { table: "users; drop table x" }),
      (error: unknown) => error instanceof JunctionError && error.kind === "config" && /users; drop table x/.test(error.message),
    );
    await assert.rejects(async () => sinkFor("inject.db", { table: "users", key: 'id") DO NOTHING; --' }), /not a valid SQL identifier/);
    assert.equal(sqliteConnector.check.sink({ table: "t", key: ["ok", "not ok"], columns: ["1x"] }).length, 2);
    assert.deepEqual(sqliteConnector.check.sink({ table: "t", mode: "upsert" })[0]?.path, ["key"]);
  });

  test("a readonly connection cannot be a target; health reports open failures", async () => {
    const readonly = await sqliteConnector.connect({ path: "does-not-exist.db", readonly: true }, runtimeContext(dir));
    open.push(readonly);
    const health = await readonly.health(signal);
    assert.equal(health.status, "unhealthy");
    assert.match(health.detail ?? "", /cannot open SQLite database .*does-not-exist\.db/);
    assert.throws(() => readonly.sink?.({ table: "t" }, sinkContext), /readonly/);

    const writable = await sqliteConnector.connect({ path: "health.db" }, runtimeContext(dir));
    open.push(writable);
    assert.equal((await writable.health(signal)).status, "healthy");
    assert.deepEqual(rows("health.db", "PRAGMA journal_mode"), [{ journal_mode: "wal" }]);
  });
});
