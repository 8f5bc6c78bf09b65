// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

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

describe("postgres sink, mode merge", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("merge");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  test("deletes and upserts of one write: last message per key wins, a missing row deletes nothing", async () => {
    await fixture.sql("CREATE TABLE people (id int PRIMARY KEY, name text)");
    await fixture.sql("INSERT INTO people VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "people", key: "id", mode: "merge" });
    const outcome = await sink.write(
      [
        remove({ id: 1 }), // plain delete
        upsert({ id: 5, name: "five" }),
        remove({ id: 5 }), // insert then delete of one key: deleted
        remove({ id: 2, name: "two" }),
        upsert({ id: 2, name: "two again" }), // delete then insert: written
        remove({ id: 99 }), // no such row
        upsert({ id: 3, name: "three, renamed" }),
        remove({ id: "4" }), // the key as text is the same key
      ],
      signal,
    );
    assert.deepEqual(outcome.failures, []);
    assert.deepEqual(await fixture.sql("SELECT id, name FROM people ORDER BY id"), [
      { id: 2, name: "two again" },
      { id: 3, name: "three, renamed" },
    ]);
  });

  test("70,000 deletes with a two-column key in one write (140,000 values, over the 65,535 bind-parameter ceiling)", async () => {
    await fixture.sql("CREATE TABLE wide (tenant text, id int, v int, PRIMARY KEY (tenant, id))");
    await fixture.sql("INSERT INTO wide SELECT 't' || (i % 3), i, i FROM generate_series(1, 80000) AS i");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "wide", key: ["tenant", "id"], mode: "merge" });
    const batch = Array.from({ length: 70_000 }, (_, k) => remove({ tenant: `t${(k + 1) % 3}`, id: k + 1 }));
    batch.push(upsert({ tenant: "new", id: 1, v: 1 }));
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    const left = await fixture.sql("SELECT count(*)::int AS n, min(id) AS low FROM wide WHERE tenant <> 'new'");
    assert.deepEqual(left[0], { n: 10_000, low: 70_001 });
    assert.equal((await fixture.sql("SELECT count(*)::int AS n FROM wide WHERE tenant = 'new'"))[0]?.n, 1);
  });

  test("a delete without its key fails alone; a delete blocked by a foreign key fails alone; the rest commits", async () => {
    await fixture.sql("CREATE TABLE parents (id int PRIMARY KEY, name text)");
    await fixture.sql("CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents (id))");
    await fixture.sql("INSERT INTO parents VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await fixture.sql("INSERT INTO children VALUES (10, 2)");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "parents", key: "id", mode: "merge" });
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
    assert.match(failures[1]?.[2] ?? "", /foreign key/);
    assert.deepEqual(await fixture.sql("SELECT id FROM parents ORDER BY id"), [{ id: 2 }, { id: 4 }]);
  });

  test("a row that breaks a constraint fails alone; the deletes and other rows of its batch commit", async () => {
    await fixture.sql("CREATE TABLE strict_people (id int PRIMARY KEY, name text NOT NULL)");
    await fixture.sql("INSERT INTO strict_people VALUES (1, 'one'), (2, 'two')");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "strict_people", key: "id", mode: "merge" });
    const outcome = await sink.write([remove({ id: 1 }), upsert({ id: 3, name: null }), upsert({ id: 4, name: "four" }), remove({ id: 2 })], signal);
    assert.deepEqual(
      failed(outcome).map(([index, kind]) => [index, kind]),
      [[1, "permanent"]],
    );
    assert.deepEqual(await fixture.sql("SELECT id, name FROM strict_people ORDER BY id"), [{ id: 4, name: "four" }]);
  });

  test("append and upsert fail a delete message permanently and write the rest", async () => {
    await fixture.sql("CREATE TABLE plain (id int PRIMARY KEY, name text)");
    const connection = await fixture.connect();
    for (const mode of ["append", "upsert"] as const) {
      await fixture.sql("TRUNCATE plain");
      const outcome = await fixture.sink(connection, { table: "plain", key: "id", mode }).write([upsert({ id: 1, name: "a" }), remove({ id: 1 }), upsert({ id: 2, name: "b" })], signal);
      const failures = failed(outcome);
      assert.deepEqual(
        failures.map(([index, kind]) => [index, kind]),
        [[1, "permanent"]],
      );
      assert.match(failures[0]?.[2] ?? "", new RegExp(`mode ${mode} does not delete rows; set mode: merge to apply deletes`));
      assert.deepEqual(await fixture.sql("SELECT id FROM plain ORDER BY id"), [{ id: 1 }, { id: 2 }]);
    }
  });

  test("deletes alone on a missing table with create_table delete nothing and create nothing", async () => {
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "later", key: "id", mode: "merge", create_table: true });
    assert.deepEqual((await sink.write([remove({ id: 1 })], signal)).failures, []);
    assert.equal((await fixture.sql("SELECT to_regclass('later') IS NULL AS missing"))[0]?.missing, true);
    assert.deepEqual((await sink.write([upsert({ id: 1, name: "x" }), remove({ id: 2 })], signal)).failures, []);
    assert.deepEqual(await fixture.sql("SELECT id::int AS id, name FROM later"), [{ id: 1, name: "x" }]);
  });

  test("soft_delete end to end: rows with deleted_at set are deleted from a merge target", async () => {
    await fixture.sql("CREATE TABLE accounts (id int PRIMARY KEY, name text, deleted_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now())");
    await fixture.sql("CREATE TABLE accounts_copy (id int PRIMARY KEY, name text, deleted_at timestamptz, updated_at timestamptz)");
    await fixture.sql("INSERT INTO accounts (id, name, deleted_at) VALUES (1, 'kept', NULL), (2, 'gone', '2024-01-01T00:00:00Z'), (3, 'kept too', NULL)");
    await fixture.sql("INSERT INTO accounts_copy (id, name) VALUES (2, 'gone'), (3, 'kept too')");
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "accounts", key: "id", cursor: "updated_at", soft_delete: "deleted_at", columns: ["id", "name"] }));
    const read = batches.flatMap((batch) => batch.messages);
    assert.deepEqual(
      read.map((message) => [(message.payload as { id: number }).id, message.metadata.operation ?? null, "deleted_at" in (message.payload as object)]),
      [
        [1, null, true],
        [2, "delete", true],
        [3, null, true],
      ],
    );
    const sink = fixture.sink(connection, { table: "accounts_copy", key: "id", mode: "merge" });
    assert.deepEqual((await sink.write(read, signal)).failures, []);
    assert.deepEqual(await fixture.sql("SELECT id, name FROM accounts_copy ORDER BY id"), [
      { id: 1, name: "kept" },
      { id: 3, name: "kept too" },
    ]);
  });
});
