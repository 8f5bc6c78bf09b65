// @needs-service postgres
// The postgres target COPYs a batch straight into its table when that gives the same
// result as COPY into a temporary table and INSERT … SELECT … ON CONFLICT, and falls back
// otherwise. These tests check both the choice (which path ran, seen from the session) and
// that the outcome is the same as before.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PoolClient } from "pg";
import pg from "pg";
import { copyIn } from "../../../src/connectors/postgres/copy-in.js";
import { copyDataMessages, copyTextLine } from "../../../src/connectors/postgres/copy-text.js";
import { GroupCopier } from "../../../src/connectors/postgres/group-copy.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { PostgresFixture } from "./postgres-fixture.js";

const signal = new AbortController().signal;

function messages(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

function rowsOf(count: number, from = 1, name = "n"): Array<Record<string, unknown>> {
  return Array.from({ length: count }, (_, index) => ({ id: from + index, name: `${name}${from + index}` }));
}

describe("postgres target: straight COPY or staging table", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("groupcopy");
  let pool: pg.Pool;
  before(async () => {
    await fixture.setUp();
    pool = new pg.Pool({ connectionString: postgresTestUrl(), max: 2, options: `-c search_path=${fixture.schema}` });
  });
  after(async () => {
    await pool.end();
    await fixture.tearDown();
  });

  /** Writes `ids` with a GroupCopier (upsert on id, or append) in one transaction; returns whether a staging table was created. */
  async function copyGroup(mode: "upsert" | "append", copier: GroupCopier, table: string, ids: number[]): Promise<{ staged: boolean }> {
    const client: PoolClient = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SAVEPOINT junction_group");
      const rows = ids.map((id) => ({ line: copyTextLine([String(id), `v${id}`]) }));
      await copier.write(
        client,
        { table: `"${fixture.schema}"."${table}"`, columns: ["id", "name"], conflict: mode === "upsert" ? ' ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name"' : "", stage: '"junction_stage_0"', savepoint: "junction_group" },
        rows,
      );
      const staged = (await client.query("SELECT to_regclass('pg_temp.junction_stage_0') IS NOT NULL AS staged")).rows[0].staged as boolean;
      await client.query("COMMIT");
      return { staged };
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }

  test("into a plain table with a primary key the rows go straight in; once a key is already there, the staging table takes over", async () => {
    await fixture.sql("CREATE TABLE straight (id int PRIMARY KEY, name text NOT NULL)");
    const copier = new GroupCopier(["id"], true);
    assert.deepEqual(await copyGroup("upsert", copier, "straight", [1, 2, 3]), { staged: false });
    assert.deepEqual(await copyGroup("upsert", copier, "straight", [3, 4]), { staged: true }); // 3 is there: upserted through the staging table
    assert.deepEqual(await copyGroup("upsert", copier, "straight", [5]), { staged: true }); // and so is every later group of this writer
    assert.deepEqual(await fixture.sql("SELECT id, name FROM straight ORDER BY id"), [1, 2, 3, 4, 5].map((id) => ({ id, name: `v${id}` })));
  });

  test("tables where a straight COPY could differ from INSERT … ON CONFLICT use the staging table", async () => {
    await fixture.sql("CREATE TABLE with_trigger (id int PRIMARY KEY, name text)");
    await fixture.sql("CREATE FUNCTION junction_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$");
    await fixture.sql("CREATE TRIGGER noop BEFORE INSERT ON with_trigger FOR EACH ROW EXECUTE FUNCTION junction_noop()");
    await fixture.sql("CREATE TABLE with_rule (id int PRIMARY KEY, name text)");
    await fixture.sql("CREATE TABLE rule_log (id int)");
    await fixture.sql("CREATE RULE log_insert AS ON INSERT TO with_rule DO ALSO INSERT INTO rule_log VALUES (NEW.id)");
    await fixture.sql("CREATE TABLE deferred_key (id int, name text, CONSTRAINT deferred_unique UNIQUE (id) DEFERRABLE INITIALLY DEFERRED, CONSTRAINT immediate_unique UNIQUE (name))");
    await fixture.sql("CREATE TABLE partitioned (id int PRIMARY KEY, name text) PARTITION BY RANGE (id)");
    await fixture.sql("CREATE TABLE partitioned_all PARTITION OF partitioned FOR VALUES FROM (MINVALUE) TO (MAXVALUE)");
    for (const table of ["with_trigger", "partitioned"]) {
      assert.deepEqual(await copyGroup("upsert", new GroupCopier(["id"], true), table, [1, 2]), { staged: true }, table);
    }
    // Rules: INSERT applies them (COPY would not), and ON CONFLICT refuses such a table, as before.
    assert.deepEqual(await copyGroup("append", new GroupCopier([], false), "with_rule", [1, 2]), { staged: true });
    assert.deepEqual(await fixture.sql("SELECT id FROM rule_log ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    await assert.rejects(copyGroup("upsert", new GroupCopier(["id"], true), "with_rule", [3]), /cannot be used with table that has INSERT or UPDATE rules/);
    // Only a deferred unique index on the key: ON CONFLICT (id) fails the way it always did (a straight COPY would only fail at COMMIT).
    await assert.rejects(copyGroup("upsert", new GroupCopier(["id"], true), "deferred_key", [1]), /ON CONFLICT does not support deferrable unique constraints/);
    // Append needs no key index: a plain table takes the straight path, duplicates and all.
    assert.deepEqual(await copyGroup("append", new GroupCopier([], false), "with_trigger", [10]), { staged: true });
    await fixture.sql("CREATE TABLE plain_append (id int, name text)");
    assert.deepEqual(await copyGroup("append", new GroupCopier([], false), "plain_append", [1, 1]), { staged: false });
    assert.deepEqual(await fixture.sql("SELECT count(*)::int AS n FROM plain_append"), [{ n: 2 }]);
  });

  test("a GENERATED ALWAYS identity column keeps refusing explicit values, as INSERT does", async () => {
    await fixture.sql("CREATE TABLE identity_always (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)");
    const connection = await fixture.connect();
    const outcome = await fixture.sink(connection, { table: "identity_always", key: "id" }).write(messages([{ id: 1, name: "x" }]), signal);
    assert.equal(outcome.failures.length, 1);
    assert.match(String((outcome.failures[0]?.error as Error).message), /GENERATED ALWAYS/i);
    assert.deepEqual(await fixture.sql("SELECT count(*)::int AS n FROM identity_always"), [{ n: 0 }]);
  });

  test("through the sink: a first load, a reload of the same keys and a batch with a bad row give the same rows and failures as before", async () => {
    await fixture.sql("CREATE TABLE through_sink (id int PRIMARY KEY, name text NOT NULL CHECK (name <> 'bad'))");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "through_sink", key: "id" });
    assert.deepEqual((await sink.write(messages(rowsOf(500)), signal)).failures, []);
    // Same keys again, new names: upserted.
    assert.deepEqual((await sink.write(messages(rowsOf(500, 1, "m")), signal)).failures, []);
    // A fresh sink (a new run) tries the straight path again; a bad row fails alone, whichever path ran.
    const fresh = fixture.sink(connection, { table: "through_sink", key: "id" });
    const batch = rowsOf(100, 1000);
    (batch[41] as Record<string, unknown>).name = "bad";
    (batch[77] as Record<string, unknown>).name = null;
    const outcome = await fresh.write(messages(batch), signal);
    assert.deepEqual(
      outcome.failures.map((failure) => [failure.index, failure.error instanceof JunctionError ? failure.error.kind : undefined]),
      [
        [41, "permanent"],
        [77, "permanent"],
      ],
    );
    const [counts] = await fixture.sql("SELECT count(*)::int AS n, count(*) FILTER (WHERE name LIKE 'm%')::int AS renamed FROM through_sink");
    assert.deepEqual(counts, { n: 598, renamed: 500 });
  });

  test("pipelined COPY: a missing table, a bad row and a large batch leave the connection usable", async () => {
    const client = await pool.connect();
    try {
      await fixture.sql("CREATE TABLE piped (id int PRIMARY KEY, name text)");
      await assert.rejects(copyIn(client, `COPY "${fixture.schema}"."no_such_table" (id) FROM STDIN`, copyDataMessages(["1"])), /does not exist/);
      assert.equal((await client.query("SELECT 1 AS one")).rows[0].one, 1);
      await assert.rejects(copyIn(client, `COPY "${fixture.schema}"."piped" (id, name) FROM STDIN`, copyDataMessages([copyTextLine(["1", "a"]), copyTextLine(["x", "b"])])), /invalid input syntax for type integer/);
      assert.equal((await client.query("SELECT 2 AS two")).rows[0].two, 2);
      const many = Array.from({ length: 20_000 }, (_, index) => copyTextLine([String(index), `name ${index}\twith tab`]));
      assert.equal(await copyIn(client, `COPY "${fixture.schema}"."piped" (id, name) FROM STDIN`, copyDataMessages(many)), 20_000);
      assert.deepEqual((await client.query(`SELECT count(*)::int AS n, max(name) FILTER (WHERE id = 5) AS five FROM "${fixture.schema}"."piped"`)).rows[0], { n: 20_000, five: "name 5\twith tab" });
    } finally {
      client.release();
    }
  });
});
