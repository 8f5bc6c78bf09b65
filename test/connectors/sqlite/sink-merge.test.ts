import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { Connection, Sink, Source } from "../../../src/connectors/types.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import { JunctionError } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { drain, runtimeContext, sinkContext, sourceContext, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

const signal = new AbortController().signal;

function upsert(payload: unknown): Message {
  return createMessage({ payload });
}

function remove(payload: unknown): Message {
  return createMessage({ payload, metadata: { operation: "delete" } });
}

function failed(outcome: { failures: Array<{ index: number; error: unknown }> }): Array<[number, string | undefined, string]> {
  return outcome.failures.map((failure) => [failure.index, failure.error instanceof JunctionError ? failure.error.kind : undefined, String((failure.error as Error).message)]);
}

describe("sqlite sink, mode merge", () => {
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

  function setUp(file: string, sql: string): void {
    const db = openSqlite(join(dir, file));
    db.exec(sql);
    db.close();
  }

  async function connect(file: string): Promise<SqliteConnection> {
    const connection = await sqliteConnector.connect({ path: file }, runtimeContext(dir));
    open.push(connection);
    return connection;
  }

  async function sinkFor(file: string, options: SqliteSinkOptions): Promise<Sink> {
    return ((await connect(file)).sink as NonNullable<SqliteConnection["sink"]>)(options, sinkContext);
  }

  async function sourceFor(file: string, options: SqliteSourceOptions): Promise<Source> {
    return ((await connect(file)).source as NonNullable<SqliteConnection["source"]>)(options, sourceContext());
  }

  function rows(file: string, sql: string): unknown[] {
    const db = openSqlite(join(dir, file), { readonly: true });
    try {
      return db.prepare(sql).all();
    } finally {
      db.close();
    }
  }

  test("deletes and upserts of one write: last message per key wins, a missing row deletes nothing", async () => {
    setUp("people.db", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO people VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four');");
    const sink = await sinkFor("people.db", { table: "people", key: "id", mode: "merge" });
    const outcome = await sink.write(
      [
        remove({ id: 1 }),
        upsert({ id: 5, name: "five" }),
        remove({ id: 5 }),
        remove({ id: 2 }),
        upsert({ id: 2, name: "two again" }),
        remove({ id: 99 }),
        upsert({ id: 3, name: "three, renamed" }),
        remove({ id: "4" }),
      ],
      signal,
    );
    assert.deepEqual(outcome.failures, []);
    assert.deepEqual(rows("people.db", "SELECT id, name FROM people ORDER BY id"), [
      { id: 2, name: "two again" },
      { id: 3, name: "three, renamed" },
    ]);
  });

  test("40,000 deletes with a two-column key in one write (80,000 values, over SQLITE_MAX_VARIABLE_NUMBER = 32,766)", async () => {
    setUp(
      "wide.db",
      `CREATE TABLE wide (tenant TEXT, id INTEGER, v INTEGER, PRIMARY KEY (tenant, id));
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) INSERT INTO wide SELECT 't' || (i % 3), i, i FROM n;`,
    );
    const sink = await sinkFor("wide.db", { table: "wide", key: ["tenant", "id"], mode: "merge" });
    const batch = Array.from({ length: 40_000 }, (_, k) => remove({ tenant: `t${(k + 1) % 3}`, id: k + 1 }));
    batch.push(upsert({ tenant: "new", id: 1, v: 1 }));
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    assert.deepEqual(rows("wide.db", "SELECT count(*) AS n, min(id) AS low FROM wide WHERE tenant <> 'new'"), [{ n: 10_000, low: 40_001 }]);
    assert.deepEqual(rows("wide.db", "SELECT count(*) AS n FROM wide WHERE tenant = 'new'"), [{ n: 1 }]);
  });

  test("a delete without its key fails alone; a delete a trigger refuses fails alone; the rest commits", async () => {
    setUp(
      "guarded.db",
      `CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT);
       INSERT INTO parents VALUES (1, 'a'), (2, 'b'), (3, 'c');
       CREATE TRIGGER keep_two BEFORE DELETE ON parents WHEN OLD.id = 2 BEGIN SELECT RAISE(ABORT, 'row 2 is referenced'); END;`,
    );
    const sink = await sinkFor("guarded.db", { table: "parents", key: "id", mode: "merge" });
    const outcome = await sink.write([remove({ id: 1 }), remove({ name: "no key" }), remove({ id: 2 }), upsert({ id: 4, name: "d" }), remove({ id: 3 })], signal);
    const failures = failed(outcome);
    assert.deepEqual(
      failures.map(([index, kind]) => [index, kind]),
      [
        [1, "permanent"],
        [2, "permanent"],
      ],
    );
    assert.match(failures[0]?.[2] ?? "", /a delete needs the key \(id\) in its payload/);
    assert.match(failures[1]?.[2] ?? "", /row 2 is referenced/);
    assert.deepEqual(rows("guarded.db", "SELECT id FROM parents ORDER BY id"), [{ id: 2 }, { id: 4 }]);
  });

  test("a row that breaks a constraint fails alone; the deletes and other rows of its batch commit", async () => {
    setUp("strict.db", "CREATE TABLE strict_people (id INTEGER PRIMARY KEY, name TEXT NOT NULL); INSERT INTO strict_people VALUES (1, 'one'), (2, 'two');");
    const sink = await sinkFor("strict.db", { table: "strict_people", key: "id", mode: "merge" });
    const outcome = await sink.write([remove({ id: 1 }), upsert({ id: 3, name: null }), upsert({ id: 4, name: "four" }), remove({ id: 2 })], signal);
    assert.deepEqual(
      failed(outcome).map(([index, kind]) => [index, kind]),
      [[1, "permanent"]],
    );
    assert.deepEqual(rows("strict.db", "SELECT id, name FROM strict_people ORDER BY id"), [{ id: 4, name: "four" }]);
  });

  test("insert and upsert fail a delete message permanently and write the rest", async () => {
    setUp("plain.db", "CREATE TABLE plain (id INTEGER PRIMARY KEY, name TEXT)");
    for (const mode of ["insert", "upsert"] as const) {
      setUp("plain.db", "DELETE FROM plain");
      const outcome = await (await sinkFor("plain.db", { table: "plain", key: "id", mode })).write([upsert({ id: 1, name: "a" }), remove({ id: 1 }), upsert({ id: 2, name: "b" })], signal);
      const failures = failed(outcome);
      assert.deepEqual(
        failures.map(([index, kind]) => [index, kind]),
        [[1, "permanent"]],
      );
      assert.match(failures[0]?.[2] ?? "", new RegExp(`mode ${mode} does not delete rows; set mode: merge to apply deletes`));
      assert.deepEqual(rows("plain.db", "SELECT id FROM plain ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    }
  });

  test("deletes alone on a missing table with create_table delete nothing and create nothing", async () => {
    const sink = await sinkFor("later.db", { table: "later", key: "id", mode: "merge", create_table: true });
    assert.deepEqual((await sink.write([remove({ id: 1 })], signal)).failures, []);
    assert.deepEqual(rows("later.db", "SELECT name FROM sqlite_master WHERE name = 'later'"), []);
    assert.deepEqual((await sink.write([upsert({ id: 1, name: "x" }), remove({ id: 2 })], signal)).failures, []);
    assert.deepEqual(rows("later.db", "SELECT id, name FROM later"), [{ id: 1, name: "x" }]);
  });

  test("soft_delete end to end: rows with deleted_at set are deleted from a merge target", async () => {
    setUp(
      "soft.db",
      `CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT, deleted_at TEXT, updated_at TEXT NOT NULL);
       INSERT INTO accounts VALUES (1, 'kept', NULL, '2024-01-01'), (2, 'gone', '2024-02-01T00:00:00Z', '2024-02-01'), (3, 'kept too', NULL, '2024-01-02');
       CREATE TABLE accounts_copy (id INTEGER PRIMARY KEY, name TEXT, deleted_at TEXT, updated_at TEXT);
       INSERT INTO accounts_copy (id, name) VALUES (2, 'gone'), (3, 'kept too');`,
    );
    const source = await sourceFor("soft.db", { table: "accounts", key: "id", cursor: "updated_at", soft_delete: "deleted_at", columns: ["id", "name"] });
    const read = (await drain(source)).flatMap((batch) => batch.messages);
    assert.deepEqual(
      read.map((message) => [(message.payload as { id: number }).id, message.metadata.operation ?? null, "deleted_at" in (message.payload as object)]),
      [
        [1, null, true],
        [3, null, true],
        [2, "delete", true],
      ],
    );
    const sink = await sinkFor("soft.db", { table: "accounts_copy", key: "id", mode: "merge" });
    assert.deepEqual((await sink.write(read, signal)).failures, []);
    assert.deepEqual(rows("soft.db", "SELECT id, name FROM accounts_copy ORDER BY id"), [
      { id: 1, name: "kept" },
      { id: 3, name: "kept too" },
    ]);
  });
});
