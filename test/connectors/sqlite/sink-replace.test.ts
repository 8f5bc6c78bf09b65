import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import { JunctionError } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { runtimeContext, sinkContext, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

const signal = new AbortController().signal;

function rows(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

function people(from: number, to: number): Message[] {
  return rows(Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `p${from + i}` })));
}

describe("sqlite sink, mode replace", () => {
  let dir: string;
  let removeDir: () => Promise<void>;
  const open: SqliteConnection[] = [];

  before(async () => {
    ({ dir, remove: removeDir } = await tempDir());
  });
  after(async () => {
    for (const connection of open) await connection.close();
    await removeDir();
  });

  function exec(file: string, sql: string): void {
    const db = openSqlite(join(dir, file));
    db.exec(sql);
    db.close();
  }

  function query(file: string, sql: string): unknown[] {
    const db = openSqlite(join(dir, file), { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  }

  /** sqlite_master, with the table name in CREATE TABLE unquoted (a rename writes it quoted). */
  function schemaOf(file: string): unknown[] {
    return (query(file, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name") as Array<{ sql: string | null }>).map((row) => ({
      ...row,
      sql: row.sql?.replace(/^CREATE TABLE "(\w+)"/, "CREATE TABLE $1") ?? null,
    }));
  }

  async function sinkFor(file: string, options: SqliteSinkOptions): Promise<Sink> {
    const connection = await sqliteConnector.connect({ path: file }, runtimeContext(dir));
    open.push(connection);
    return (connection.sink as NonNullable<SqliteConnection["sink"]>)(options, sinkContext);
  }

  test("the target changes only at complete; its definition, indexes and triggers survive and views see the new rows", async () => {
    exec(
      "users.db",
      `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (name <> ''), email TEXT) STRICT;
       CREATE UNIQUE INDEX users_email ON users (email);
       CREATE INDEX users_name ON users (name);
       CREATE TABLE audit (id INTEGER);
       CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES (NEW.id); END;
       CREATE VIEW user_names AS SELECT name FROM users;
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO users SELECT i, 'old' || i, 'old' || i || '@x' FROM n;
       DELETE FROM audit;`,
    );
    const schemaBefore = schemaOf("users.db");
    const sink = await sinkFor("users.db", { table: "users", key: "id", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(people(1, 3), signal)).failures, []);
    assert.deepEqual((await sink.write(people(3, 5), signal)).failures, [], "a key written twice is an upsert in the staging table");
    assert.deepEqual(query("users.db", "SELECT count(*) AS n FROM users"), [{ n: 10 }], "the target is untouched while the run is open");
    assert.deepEqual(query("users.db", "SELECT count(*) AS n FROM users__junction_staging"), [{ n: 5 }]);
    await sink.complete?.(signal);

    assert.deepEqual(
      query("users.db", "SELECT id, name FROM users ORDER BY id"),
      [1, 2, 3, 4, 5].map((id) => ({ id, name: `p${id}` })),
    );
    assert.deepEqual(schemaOf("users.db"), schemaBefore, "same CREATE TABLE, indexes, trigger and view");
    assert.deepEqual(query("users.db", "SELECT count(*) AS n FROM user_names"), [{ n: 5 }]);
    exec("users.db", "INSERT INTO users VALUES (100, 'new', NULL)");
    assert.deepEqual(query("users.db", "SELECT id FROM audit"), [{ id: 100 }], "the trigger was carried over");

    // A second run swaps again: nothing drifts.
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(people(7, 8), signal)).failures, []);
    await sink.complete?.(signal);
    assert.deepEqual(query("users.db", "SELECT id FROM users ORDER BY id"), [{ id: 7 }, { id: 8 }]);
    assert.deepEqual(schemaOf("users.db"), schemaBefore);
  });

  test("a run that fails or stops never swaps; the next run drops its staging table", async () => {
    exec("stock.db", "CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL); INSERT INTO stock VALUES ('a', 1), ('b', 2);");
    const sink = await sinkFor("stock.db", { table: "stock", key: "sku", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ sku: "x", qty: 9 }]), signal)).failures, []);
    assert.deepEqual(query("stock.db", "SELECT sku, qty FROM stock ORDER BY sku"), [
      { sku: "a", qty: 1 },
      { sku: "b", qty: 2 },
    ]);

    const next = await sinkFor("stock.db", { table: "stock", key: "sku", mode: "replace" });
    await next.begin?.({}, signal);
    assert.deepEqual(query("stock.db", "SELECT count(*) AS n FROM stock__junction_staging"), [{ n: 0 }], "the next run starts from an empty staging table");
    assert.deepEqual((await next.write(rows([{ sku: "c", qty: 3 }]), signal)).failures, []);
    await next.complete?.(signal);
    assert.deepEqual(query("stock.db", "SELECT sku, qty FROM stock"), [{ sku: "c", qty: 3 }]);
  });

  test("a key made unique by a separate UNIQUE index still upserts in the staging table", async () => {
    exec("codes.db", "CREATE TABLE codes (code TEXT, label TEXT); CREATE UNIQUE INDEX codes_code ON codes (code); INSERT INTO codes VALUES ('a', 'old');");
    const sink = await sinkFor("codes.db", { table: "codes", key: "code", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ code: "a", label: "first" }]), signal)).failures, []);
    assert.deepEqual((await sink.write(rows([{ code: "a", label: "second" }]), signal)).failures, []);
    await sink.complete?.(signal);
    assert.deepEqual(query("codes.db", "SELECT code, label FROM codes"), [{ code: "a", label: "second" }]);
    assert.deepEqual(query("codes.db", "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"), [{ name: "codes_code" }]);
  });

  test("create_table: a missing target is created as a staging table and renamed in at complete", async () => {
    const sink = await sinkFor("fresh.db", { table: "fresh", key: "id", mode: "replace", create_table: true });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ id: 1, name: "a" }, { id: 2, name: "b" }]), signal)).failures, []);
    assert.deepEqual(query("fresh.db", "SELECT name FROM sqlite_master WHERE name = 'fresh'"), [], "no target before complete");
    await sink.complete?.(signal);
    assert.deepEqual(query("fresh.db", "SELECT id, name FROM fresh ORDER BY id"), [
      { id: 1, name: "a" },
      { id: 2, name: "b" },
    ]);

    const missing = await sinkFor("fresh.db", { table: "nowhere", key: "id", mode: "replace" });
    await assert.rejects(missing.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => error instanceof JunctionError && error.kind === "config" && /does not exist/.test(error.message));
  });

  test("a foreign key naming the target: replace refuses at begin and leaves the target as it is", async () => {
    exec("linked.db", "CREATE TABLE parents (id INTEGER PRIMARY KEY); INSERT INTO parents VALUES (1); CREATE TABLE children (id INTEGER, parent INTEGER REFERENCES parents (id));");
    const sink = await sinkFor("linked.db", { table: "parents", key: "id", mode: "replace" });
    await assert.rejects(sink.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => {
      assert.ok(error instanceof JunctionError && error.kind === "config", String(error));
      assert.match(error.message, /foreign keys of children refer to it/);
      return true;
    });
    assert.deepEqual(query("linked.db", "SELECT id FROM parents"), [{ id: 1 }]);
  });

  test("readers never see a missing or empty target: a read transaction keeps the old rows, the next read gets the new ones", async () => {
    exec("busy.db", "PRAGMA journal_mode = WAL; CREATE TABLE busy (id INTEGER PRIMARY KEY); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO busy SELECT i FROM n;");
    const sink = await sinkFor("busy.db", { table: "busy", key: "id", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows(Array.from({ length: 250 }, (_, i) => ({ id: i + 1 }))), signal)).failures, []);
    const reader = openSqlite(join(dir, "busy.db"));
    try {
      reader.exec("BEGIN");
      assert.deepEqual(reader.prepare("SELECT count(*) AS n FROM busy").get(), { n: 100 });
      await sink.complete?.(signal);
      assert.deepEqual(reader.prepare("SELECT count(*) AS n FROM busy").get(), { n: 100 }, "a read transaction open across the swap keeps its snapshot");
      reader.exec("COMMIT");
      assert.deepEqual(reader.prepare("SELECT count(*) AS n FROM busy").get(), { n: 250 });
    } finally {
      reader.close();
    }
  });
});
