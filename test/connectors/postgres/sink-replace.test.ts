// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import type { Sink } from "../../../src/connectors/types.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { PostgresFixture } from "./postgres-fixture.js";

const signal = new AbortController().signal;

function rows(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

function people(from: number, to: number): Message[] {
  return rows(Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `p${from + i}` })));
}

async function run(sink: Sink, batches: Message[][]): Promise<void> {
  await sink.begin?.({}, signal);
  for (const batch of batches) assert.deepEqual((await sink.write(batch, signal)).failures, []);
  await sink.complete?.(signal);
}

describe("postgres sink, mode replace", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("replace");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  async function count(table: string): Promise<number> {
    return Number((await fixture.sql(`SELECT count(*)::int AS n FROM ${table}`))[0]?.n);
  }

  async function relations(): Promise<string[]> {
    return (await fixture.sql("SELECT relname FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'i', 'S') ORDER BY relname", [fixture.schema])).map((row) =>
      String(row.relname),
    );
  }

  test("the target changes only at complete; indexes, grants and the serial sequence survive the swap", async () => {
    await fixture.sql("CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE)");
    await fixture.sql("INSERT INTO users (name) SELECT 'old' || i FROM generate_series(1, 10) AS i");
    const role = `junction_reader_${process.pid}`;
    await fixture.sql(`CREATE ROLE ${role}`);
    try {
      await fixture.sql(`GRANT SELECT ON users TO ${role}`);
      const before = await relations();
      const connection = await fixture.connect();
      const sink = fixture.sink(connection, { table: "users", key: "id", mode: "replace" });

      await sink.begin?.({}, signal);
      assert.deepEqual((await sink.write(people(1, 3), signal)).failures, []);
      assert.deepEqual((await sink.write(people(3, 5), signal)).failures, [], "a key written twice is an upsert in the staging table");
      assert.equal(await count("users"), 10, "the target is untouched while the run is open");
      assert.equal(await count("users__junction_staging"), 5);
      await sink.complete?.(signal);

      assert.deepEqual(await fixture.sql("SELECT id, name FROM users ORDER BY id"), [1, 2, 3, 4, 5].map((id) => ({ id, name: `p${id}` })));
      assert.deepEqual(await relations(), before, "same tables, index and sequence names as before the swap; no staging table left");
      const grants = await fixture.sql("SELECT privilege_type FROM information_schema.role_table_grants WHERE table_schema = $1 AND table_name = 'users' AND grantee = $2", [fixture.schema, role]);
      assert.deepEqual(grants, [{ privilege_type: "SELECT" }]);
      await fixture.sql("INSERT INTO users (name) VALUES ('from the app')");
      assert.ok(Number((await fixture.sql("SELECT max(id) AS id FROM users"))[0]?.id) > 10, "the serial sequence kept counting");

      // A second run swaps again with the same names.
      await run(sink, [people(7, 8)]);
      assert.deepEqual(await fixture.sql("SELECT id FROM users ORDER BY id"), [{ id: 7 }, { id: 8 }]);
      assert.deepEqual(await relations(), before);
    } finally {
      await fixture.sql("DROP TABLE IF EXISTS users");
      await fixture.sql(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  test("a run that fails or stops never swaps; the next run drops its staging table", async () => {
    await fixture.sql("CREATE TABLE stock (sku text PRIMARY KEY, qty int NOT NULL)");
    await fixture.sql("INSERT INTO stock VALUES ('a', 1), ('b', 2)");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "stock", key: "sku", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ sku: "x", qty: 9 }]), signal)).failures, []);
    // No complete: the run failed or was stopped.
    assert.deepEqual(await fixture.sql("SELECT sku, qty FROM stock ORDER BY sku"), [
      { sku: "a", qty: 1 },
      { sku: "b", qty: 2 },
    ]);
    assert.equal(await count("stock__junction_staging"), 1, "the staging table is left until the next run");

    const next = fixture.sink(await fixture.connect(), { table: "stock", key: "sku", mode: "replace" });
    await next.begin?.({}, signal);
    assert.equal(await count("stock__junction_staging"), 0, "the next run starts from an empty staging table");
    assert.deepEqual((await next.write(rows([{ sku: "c", qty: 3 }]), signal)).failures, []);
    await next.complete?.(signal);
    assert.deepEqual(await fixture.sql("SELECT sku, qty FROM stock"), [{ sku: "c", qty: 3 }]);
  });

  test("create_table: a missing target is created as a staging table and renamed in at complete", async () => {
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "fresh", key: "id", mode: "replace", create_table: true });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ id: 1, name: "a", score: 1.5 }, { id: 2, name: "b", score: 2 }]), signal)).failures, []);
    assert.equal((await fixture.sql("SELECT to_regclass('fresh') IS NULL AS missing"))[0]?.missing, true, "no target before complete");
    await sink.complete?.(signal);
    assert.deepEqual(await fixture.sql("SELECT id::int AS id, name, score FROM fresh ORDER BY id"), [
      { id: 1, name: "a", score: 1.5 },
      { id: 2, name: "b", score: 2 },
    ]);
    const indexes = await fixture.sql("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'fresh'", [fixture.schema]);
    assert.deepEqual(indexes, [{ indexname: "fresh_pkey" }]);

    const missing = fixture.sink(connection, { table: "nowhere", key: "id", mode: "replace" });
    await assert.rejects(missing.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => error instanceof JunctionError && error.kind === "config" && /does not exist/.test(error.message));
  });

  test("without key, replace appends into the staging table; deletes then fail permanently", async () => {
    await fixture.sql("CREATE TABLE log (line text)");
    await fixture.sql("INSERT INTO log VALUES ('old')");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "log", mode: "replace" });
    await sink.begin?.({}, signal);
    const outcome = await sink.write([...rows([{ line: "a" }, { line: "a" }]), createMessage({ payload: { line: "x" }, metadata: { operation: "delete" } })], signal);
    assert.deepEqual(
      outcome.failures.map((failure) => [failure.index, (failure.error as JunctionError).kind]),
      [[2, "permanent"]],
    );
    assert.match(String((outcome.failures[0]?.error as Error).message), /mode replace does not delete rows; set key/);
    await sink.complete?.(signal);
    assert.deepEqual(await fixture.sql("SELECT line FROM log"), [{ line: "a" }, { line: "a" }]);
  });

  test("a view or a foreign key on the target: replace refuses at begin and leaves the target as it is", async () => {
    await fixture.sql("CREATE TABLE viewed (id int PRIMARY KEY)");
    await fixture.sql("INSERT INTO viewed VALUES (1)");
    await fixture.sql("CREATE VIEW viewed_ids AS SELECT id FROM viewed");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "viewed", key: "id", mode: "replace" });
    await assert.rejects(sink.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => {
      assert.ok(error instanceof JunctionError && error.kind === "config", String(error));
      assert.match(error.message, /"viewed" has view .*viewed_ids, which PostgreSQL ties to the table itself/);
      return true;
    });
    assert.equal(await count("viewed_ids"), 1);
    await fixture.sql("DROP VIEW viewed_ids");
    await fixture.sql("CREATE TABLE referring (id int REFERENCES viewed (id))");
    await assert.rejects(sink.begin?.({}, signal) ?? Promise.resolve(), /foreign key referring_id_fkey of .*referring/);
  });

  test("readers never see an empty or missing target: a query waiting on the swap reads the new table", async () => {
    await fixture.sql("CREATE TABLE busy (id int PRIMARY KEY)");
    await fixture.sql("INSERT INTO busy SELECT generate_series(1, 100)");
    const reader = new pg.Client({ connectionString: postgresTestUrl(), options: `-c search_path=${fixture.schema}` });
    const waiter = new pg.Client({ connectionString: postgresTestUrl(), options: `-c search_path=${fixture.schema}` });
    const poller = new pg.Client({ connectionString: postgresTestUrl(), options: `-c search_path=${fixture.schema}` });
    await Promise.all([reader.connect(), waiter.connect(), poller.connect()]);
    try {
      const connection = await fixture.connect();
      const sink = fixture.sink(connection, { table: "busy", key: "id", mode: "replace" });
      await sink.begin?.({}, signal);
      assert.deepEqual((await sink.write(rows(Array.from({ length: 250 }, (_, i) => ({ id: i + 1 }))), signal)).failures, []);

      // A reader inside a transaction holds the old table: the swap has to wait for it.
      await reader.query("BEGIN");
      assert.equal((await reader.query("SELECT count(*)::int AS n FROM busy")).rows[0].n, 100);
      const swapped = sink.complete?.(signal);
      await waitFor(async () => (await fixture.sql("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'busy'::regclass"))[0]?.n === 1);
      // A query arriving now queues behind the swap and must see the new table, not an error or an empty one.
      const late = waiter.query("SELECT count(*)::int AS n FROM busy");
      const seen: number[] = [];
      let polling = true;
      const polls = (async () => {
        while (polling) seen.push((await poller.query("SELECT count(*)::int AS n FROM busy")).rows[0].n as number);
      })();
      assert.equal((await reader.query("SELECT count(*)::int AS n FROM busy")).rows[0].n, 100, "the open transaction still reads the old table");
      await reader.query("COMMIT");
      await swapped;
      assert.equal((await late).rows[0].n, 250);
      polling = false;
      await polls;
      assert.ok(seen.length > 0 && seen.every((n) => n === 250), `every poll saw the new table: ${seen.join(",")}`);
    } finally {
      await Promise.all([reader.end(), waiter.end(), poller.end()]);
    }
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("condition not reached in 5 s");
}
