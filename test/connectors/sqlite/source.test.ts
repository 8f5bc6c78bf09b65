import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import type { SqliteConnection as SqliteFile } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { Batch, Connection, Source } from "../../../src/connectors/types.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import { JunctionError } from "../../../src/core/errors.js";
import { drain, runtimeContext, sourceContext, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

describe("sqlite source", () => {
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

  async function connect(file: string): Promise<SqliteConnection> {
    const connection = await sqliteConnector.connect({ path: file }, runtimeContext(dir));
    open.push(connection);
    return connection;
  }

  function seed(file: string, rows: number, updatedAt: (i: number) => string): SqliteFile {
    const db = openSqlite(join(dir, file));
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT)");
    const insert = db.prepare("INSERT INTO users (id, name, updated_at) VALUES (?, ?, ?)");
    db.transaction(() => {
      for (let i = 1; i <= rows; i++) insert.run(i, `user-${i}`, updatedAt(i));
    });
    return db;
  }

  function source(connection: SqliteConnection, options: SqliteSourceOptions, ctx = sourceContext()): Source {
    return (connection.source as NonNullable<SqliteConnection["source"]>)(options, ctx);
  }

  test("keyset cursor: 2,500 rows sharing one cursor value arrive exactly once across a restart from a mid-way checkpoint", async () => {
    const db = seed("keyset.db", 2500, () => "2024-01-01T00:00:00Z");
    db.close();
    const connection = await connect("keyset.db");
    const ctx = sourceContext({ batchSize: 100 });
    const options: SqliteSourceOptions = { table: "users", key: "id", cursor: "updated_at" };

    // First run: the runner pulls ahead (batch k+1 is read before batch k is acked) and stops mid-way.
    const delivered: number[] = [];
    const iterator = source(connection, options, ctx).batches(new AbortController().signal)[Symbol.asyncIterator]();
    let previous: Batch | undefined = (await iterator.next()).value;
    for (let k = 0; k < 11; k++) {
      const current: Batch | undefined = (await iterator.next()).value;
      assert.ok(previous && current);
      assert.equal(previous.messages.length, 100);
      await previous.ack();
      delivered.push(...previous.messages.map((m) => (m.payload as { id: number }).id));
      previous = current;
    }
    await iterator.return?.();
    // 11 batches acked; the 12th was read but never acked: the checkpoint is at row 1100.
    assert.deepEqual(ctx.checkpoints.value, { cursor: "2024-01-01T00:00:00Z", key: 1100 });

    const second = await drain(source(connection, options, ctx));
    for (const batch of second) delivered.push(...batch.messages.map((m) => (m.payload as { id: number }).id));
    assert.equal(delivered.length, 2500);
    assert.equal(new Set(delivered).size, 2500);
    assert.deepEqual(
      delivered.slice().sort((a, b) => a - b),
      Array.from({ length: 2500 }, (_, i) => i + 1),
    );
    assert.deepEqual(ctx.checkpoints.value, { cursor: "2024-01-01T00:00:00Z", key: 2500 });
  });

  test("rows updated after the checkpoint arrive on the next run, and nothing else does", async () => {
    const db = seed("updates.db", 300, (i) => `2024-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`);
    const connection = await connect("updates.db");
    const ctx = sourceContext({ batchSize: 100 });
    const options: SqliteSourceOptions = { table: "users", key: "id", cursor: "updated_at" };
    const first = await drain(source(connection, options, ctx));
    assert.equal(first.flatMap((b) => b.messages).length, 300);

    db.prepare("UPDATE users SET name = 'changed', updated_at = '2024-01-02T00:00:00Z' WHERE id IN (5, 250)").run();
    // A row committed with the same cursor value as the checkpoint but a higher key is not lost either.
    db.prepare("INSERT INTO users (id, name, updated_at) VALUES (301, 'late', '2024-01-01T00:00:59Z')").run();
    db.close();

    const second = (await drain(source(connection, options, ctx))).flatMap((b) => b.messages);
    assert.deepEqual(
      second.map((m) => m.id),
      ["users:301:2024-01-01T00:00:59Z", "users:5:2024-01-02T00:00:00Z", "users:250:2024-01-02T00:00:00Z"],
    );
    assert.equal((second[1]?.payload as { name: string }).name, "changed");
    assert.equal(second[1]?.key, "5");
    assert.deepEqual(second[1]?.metadata, { table: "users" });
    assert.equal((await drain(source(connection, options, ctx))).length, 0);
  });

  test("a nacked batch is read again and acks of batches read before the nack do not move the checkpoint", async () => {
    seed("nack.db", 30, () => "t").close();
    const connection = await connect("nack.db");
    const ctx = sourceContext({ batchSize: 10 });
    const iterator = source(connection, { table: "users", key: "id", cursor: "updated_at" }, ctx).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const one = (await iterator.next()).value;
    const two = (await iterator.next()).value;
    assert.ok(one && two);
    await one.nack(new Error("shutting down"), true);
    await two.ack();
    assert.equal(ctx.checkpoints.value, undefined);
    const again = (await iterator.next()).value;
    assert.ok(again);
    assert.equal(again.messages[0]?.id, "users:1:t");
    await again.ack();
    assert.deepEqual(ctx.checkpoints.value, { cursor: "t", key: 10 });
    await iterator.return?.();
  });

  test("key without cursor pages the whole table every run; no key pages by rowid", async () => {
    seed("full.db", 250, () => "t").close();
    const connection = await connect("full.db");
    const ctx = sourceContext({ batchSize: 100 });
    for (let run = 0; run < 2; run++) {
      const messages = (await drain(source(connection, { table: "users", key: "id", columns: ["name"] }, ctx))).flatMap((b) => b.messages);
      assert.equal(messages.length, 250);
      assert.deepEqual(messages[0]?.payload, { name: "user-1", id: 1 });
      assert.equal(messages[0]?.id, "users:1");
    }
    assert.equal(ctx.checkpoints.writes, 0);
    const byRowid = (await drain(source(connection, { table: "users", where: "id > 200" }))).flatMap((b) => b.messages);
    assert.equal(byRowid.length, 50);
    assert.deepEqual(byRowid[0]?.payload, { id: 201, name: "user-201", updated_at: "t" });
    assert.equal(byRowid[0]?.id, "users:201");
  });

  test("a query is wrapped as a subquery and needs key", async () => {
    seed("query.db", 20, (i) => String(i).padStart(3, "0")).close();
    const connection = await connect("query.db");
    const messages = (
      await drain(source(connection, { query: "SELECT id, upper(name) AS shout, updated_at FROM users WHERE id % 2 = 0", key: "id", cursor: "updated_at", batch_size: 3 }))
    ).flatMap((b) => b.messages);
    assert.equal(messages.length, 10);
    assert.deepEqual(messages[0]?.payload, { id: 2, shout: "USER-2", updated_at: "002" });
    assert.equal(messages[0]?.id, "query:2:002");
    assert.throws(() => source(connection, { query: "SELECT * FROM users" }), (error: unknown) => error instanceof JunctionError && error.kind === "config");
    assert.throws(() => source(connection, { query: "SELECT * FROM users;", key: "id" }), /semicolon/);
  });

  test("follow mode picks up rows inserted later and stops as soon as the signal aborts", async () => {
    const db = seed("follow.db", 5, () => "a");
    const connection = await connect("follow.db");
    const controller = new AbortController();
    const ctx = sourceContext({ follow: true, batchSize: 100 });
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const batch of source(connection, { table: "users", key: "id", cursor: "updated_at", poll_interval: "20ms" }, ctx).batches(controller.signal)) {
        seen.push(...batch.messages.map((m) => m.id));
        await batch.ack();
        if (seen.length === 5) db.prepare("INSERT INTO users (id, name, updated_at) VALUES (6, 'new', 'b')").run();
        if (seen.length === 6) controller.abort();
      }
    })();
    await iterating;
    db.close();
    assert.deepEqual(seen, ["users:1:a", "users:2:a", "users:3:a", "users:4:a", "users:5:a", "users:6:b"]);
  });

  test("identifier injection attempts are rejected as config errors naming the identifier and the rule", async () => {
    seed("inject.db", 1, () => "a").close();
    const connection = await connect("inject.db");
    for (const options of [
      { table: "users; drop table x" },
      { table: "users", key: "id", cursor: 'updated_at" OR 1=1 --' },
      { table: "users", columns: ["name, (select 1)"] },
      { table: "a.b.c" },
    ] satisfies SqliteSourceOptions[]) {
      assert.throws(
        () => source(connection, options),
        (error: unknown) => error instanceof JunctionError && error.kind === "config" && /not a valid/.test(error.message) && /letters, digits and underscores/.test(error.message),
      );
    }
    const issues = sqliteConnector.check.source({ table: "users; drop table x" });
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]?.path, ["table"]);
    assert.match(issues[0]?.message ?? "", /users; drop table x/);
  });

  test("check reports cursor without key, table and query together, and a keyless query", () => {
    assert.deepEqual(
      sqliteConnector.check.source({ table: "users", cursor: "updated_at" }).map((issue) => issue.path),
      [["key"]],
    );
    assert.equal(sqliteConnector.check.source({ table: "users", query: "select 1" }).length, 2);
    assert.equal(sqliteConnector.check.source({}).length, 1);
  });
});
