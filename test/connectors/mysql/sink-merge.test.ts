// @needs-service mariadb
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { MysqlFixture } from "./mysql-fixture.js";
import type { MysqlConnection } from "./mysql-fixture.js";

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

describe("mysql sink, mode merge", { skip: await serviceSkipReason("mariadb") }, () => {
  let fixture: MysqlFixture;
  let connection: MysqlConnection;
  before(async () => {
    fixture = new MysqlFixture();
    connection = await fixture.connect();
  });
  after(async () => {
    await fixture.cleanup();
  });

  test("deletes and upserts of one write: last message per key wins, a missing row deletes nothing", async () => {
    const table = fixture.table("people");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(50))`);
    await fixture.sql(`INSERT INTO \`${table}\` VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four')`);
    const sink = fixture.sink(connection, { table, key: "id", mode: "merge" });
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
    assert.deepEqual(await fixture.sql(`SELECT id, name FROM \`${table}\` ORDER BY id`), [
      { id: 2, name: "two again" },
      { id: 3, name: "three, renamed" },
    ]);
  });

  test("70,000 deletes with a two-column key in one write (140,000 values, over the 65,535-placeholder ceiling)", async () => {
    const table = fixture.table("wide");
    await fixture.sql(`CREATE TABLE \`${table}\` (tenant VARCHAR(10), id INT, v INT, PRIMARY KEY (tenant, id))`);
    await fixture.sql(`INSERT INTO \`${table}\` SELECT CONCAT('t', seq % 3), seq, seq FROM seq_1_to_80000`);
    const sink = fixture.sink(connection, { table, key: ["tenant", "id"], mode: "merge" });
    const batch = Array.from({ length: 70_000 }, (_, k) => remove({ tenant: `t${(k + 1) % 3}`, id: k + 1 }));
    batch.push(upsert({ tenant: "new", id: 1, v: 1 }));
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    const left = await fixture.sql(`SELECT COUNT(*) AS n, MIN(id) AS low FROM \`${table}\` WHERE tenant <> 'new'`);
    assert.deepEqual([Number(left[0]?.n), left[0]?.low], [10_000, 70_001]);
    assert.equal(Number((await fixture.sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE tenant = 'new'`))[0]?.n), 1);
  });

  test("a delete without its key fails alone; a delete blocked by a foreign key fails alone; the rest commits", async () => {
    const parents = fixture.table("parents");
    const children = fixture.table("children");
    await fixture.sql(`CREATE TABLE \`${parents}\` (id INT PRIMARY KEY, name VARCHAR(10)) ENGINE=InnoDB`);
    await fixture.sql(`CREATE TABLE \`${children}\` (id INT PRIMARY KEY, parent INT, FOREIGN KEY (parent) REFERENCES \`${parents}\` (id)) ENGINE=InnoDB`);
    await fixture.sql(`INSERT INTO \`${parents}\` VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    await fixture.sql(`INSERT INTO \`${children}\` VALUES (10, 2)`);
    const sink = fixture.sink(connection, { table: parents, key: "id", mode: "merge" });
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
    assert.deepEqual(await fixture.sql(`SELECT id FROM \`${parents}\` ORDER BY id`), [{ id: 2 }, { id: 4 }]);
    await fixture.sql(`DROP TABLE \`${children}\``);
  });

  test("a row that breaks a constraint fails alone; the deletes and other rows of its batch commit", async () => {
    const table = fixture.table("strict_people");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL)`);
    await fixture.sql(`INSERT INTO \`${table}\` VALUES (1, 'one'), (2, 'two')`);
    const sink = fixture.sink(connection, { table, key: "id", mode: "merge" });
    const outcome = await sink.write([remove({ id: 1 }), upsert({ id: 3, name: null }), upsert({ id: 4, name: "four" }), remove({ id: 2 })], signal);
    assert.deepEqual(
      failed(outcome).map(([index, kind]) => [index, kind]),
      [[1, "permanent"]],
    );
    assert.deepEqual(await fixture.sql(`SELECT id, name FROM \`${table}\` ORDER BY id`), [{ id: 4, name: "four" }]);
  });

  test("append and upsert fail a delete message permanently and write the rest", async () => {
    const table = fixture.table("plain");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(10))`);
    for (const mode of ["append", "upsert"] as const) {
      await fixture.sql(`TRUNCATE \`${table}\``);
      const outcome = await fixture.sink(connection, { table, key: "id", mode }).write([upsert({ id: 1, name: "a" }), remove({ id: 1 }), upsert({ id: 2, name: "b" })], signal);
      const failures = failed(outcome);
      assert.deepEqual(
        failures.map(([index, kind]) => [index, kind]),
        [[1, "permanent"]],
      );
      assert.match(failures[0]?.[2] ?? "", new RegExp(`mode ${mode} does not delete rows; set mode: merge to apply deletes`));
      assert.deepEqual(await fixture.sql(`SELECT id FROM \`${table}\` ORDER BY id`), [{ id: 1 }, { id: 2 }]);
    }
  });

  test("deletes alone on a missing table with create_table delete nothing and create nothing", async () => {
    const table = fixture.table("later");
    const sink = fixture.sink(connection, { table, key: "id", mode: "merge", create_table: true });
    assert.deepEqual((await sink.write([remove({ id: 1 })], signal)).failures, []);
    assert.equal(Number((await fixture.sql("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [table]))[0]?.n), 0);
    assert.deepEqual((await sink.write([upsert({ id: 1, name: "x" }), remove({ id: 2 })], signal)).failures, []);
    assert.deepEqual(await fixture.sql(`SELECT CAST(id AS CHAR) AS id, name FROM \`${table}\``), [{ id: "1", name: "x" }]);
  });

  test("soft_delete end to end: rows flagged deleted (TINYINT(1)) or with deleted_at set are deleted from a merge target", async () => {
    const source = fixture.table("accounts");
    const target = fixture.table("accounts_copy");
    await fixture.sql(`CREATE TABLE \`${source}\` (id INT PRIMARY KEY, name VARCHAR(20), deleted_at DATETIME(6) NULL, removed TINYINT(1) NOT NULL DEFAULT 0)`);
    await fixture.sql(`CREATE TABLE \`${target}\` LIKE \`${source}\``);
    await fixture.sql(`INSERT INTO \`${source}\` VALUES (1, 'kept', NULL, 0), (2, 'gone', '2024-01-01 00:00:00', 1), (3, 'kept too', NULL, 0), (4, 'flagged', NULL, 1)`);
    await fixture.sql(`INSERT INTO \`${target}\` (id, name) VALUES (2, 'gone'), (3, 'kept too'), (4, 'flagged')`);
    const byDate = (await drain(fixture.source(connection, { table: source, key: "id", soft_delete: "deleted_at", columns: ["id", "name"] }))).flatMap((batch) => batch.messages);
    assert.deepEqual(
      byDate.map((message) => [(message.payload as { id: number }).id, message.metadata.operation ?? null, "deleted_at" in (message.payload as object)]),
      [
        [1, null, true],
        [2, "delete", true],
        [3, null, true],
        [4, null, true],
      ],
    );
    const byFlag = (await drain(fixture.source(connection, { table: source, key: "id", soft_delete: "removed" }))).flatMap((batch) => batch.messages);
    assert.deepEqual(
      byFlag.map((message) => message.metadata.operation ?? null),
      [null, "delete", null, "delete"],
    );
    const sink = fixture.sink(connection, { table: target, key: "id", mode: "merge", columns: ["id", "name"] });
    assert.deepEqual((await sink.write(byDate, signal)).failures, []);
    assert.deepEqual((await sink.write(byFlag, signal)).failures, []);
    assert.deepEqual(await fixture.sql(`SELECT id, name FROM \`${target}\` ORDER BY id`), [
      { id: 1, name: "kept" },
      { id: 3, name: "kept too" },
    ]);
  });
});
