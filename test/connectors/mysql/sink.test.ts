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

function messages(payloads: unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

describe("mysql sink", { skip: await serviceSkipReason("mariadb") }, () => {
  let fixture: MysqlFixture;
  let connection: MysqlConnection;
  before(async () => {
    fixture = new MysqlFixture();
    connection = await fixture.connect();
  });
  after(async () => {
    await fixture.cleanup();
  });

  test("type round trip source → sink into another table is exact (DECIMAL, big BIGINT, DATETIME(6), JSON, BLOB, emoji, NULL)", async () => {
    const from = fixture.table("types_from");
    const to = fixture.table("types_to");
    const columns = "id BIGINT PRIMARY KEY, amount DECIMAL(20,6), big BIGINT, at DATETIME(6), stamp TIMESTAMP(3) NULL, doc JSON, bin BLOB, label LONGTEXT CHARACTER SET utf8mb4, ratio DOUBLE, flag TINYINT(1), day DATE";
    await fixture.sql(`CREATE TABLE \`${from}\` (${columns}) DEFAULT CHARSET=utf8mb4`);
    await fixture.sql(`CREATE TABLE \`${to}\` (${columns}) DEFAULT CHARSET=utf8mb4`);
    await fixture.sql(`INSERT INTO \`${from}\` VALUES
      (1, '12345678901234.123456', 9007199254740993, '2024-02-29 23:59:59.999999', '2024-03-01 01:02:03.456', '{"a":[1,2.5,"x"],"b":null,"c":{"d":true}}', X'00FF10807F', 'héllo 😀 世界', 0.1, 1, '2024-02-29'),
      (2, '-0.000001', -9223372036854775808, '1970-01-01 00:00:00.000000', NULL, '"just a string"', X'', '', -1.5e300, 0, '1000-01-01'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);

    const read = await drain(fixture.source(connection, { table: from, key: "id", batch_size: 2 }));
    const payloads = read.flatMap((batch) => batch.messages.map((message) => message.payload));
    assert.deepEqual(payloads[0], {
      id: 1,
      amount: "12345678901234.123456",
      big: "9007199254740993",
      at: "2024-02-29T23:59:59.999999Z",
      stamp: "2024-03-01T01:02:03.456Z",
      doc: { a: [1, 2.5, "x"], b: null, c: { d: true } },
      bin: Buffer.from([0, 255, 16, 128, 127]).toString("base64"),
      label: "héllo 😀 世界",
      ratio: 0.1,
      flag: true,
      day: "2024-02-29",
    });
    assert.equal((payloads[1] as { big: string }).big, "-9223372036854775808");

    const sink = fixture.sink(connection, { table: to, key: "id" });
    for (const batch of read) assert.deepEqual(await sink.write(batch.messages, signal), { failures: [] });

    const copied = await drain(fixture.source(connection, { table: to, key: "id" }));
    assert.deepEqual(copied.flatMap((batch) => batch.messages.map((message) => message.payload)), payloads);
    // Column by column in the database, null-safe; JSON compared as JSON.
    const differing = await fixture.sql(
      `SELECT a.id FROM \`${from}\` a JOIN \`${to}\` b USING (id) WHERE NOT (a.amount <=> b.amount AND a.big <=> b.big AND a.at <=> b.at AND a.stamp <=> b.stamp
        AND a.bin <=> b.bin AND BINARY a.label <=> BINARY b.label AND a.ratio <=> b.ratio AND a.flag <=> b.flag AND a.day <=> b.day
        AND ((a.doc IS NULL AND b.doc IS NULL) OR JSON_EQUALS(a.doc, b.doc)))`,
    );
    assert.deepEqual(differing, []);
  });

  test("upsert is idempotent and updates; duplicate keys in one batch collapse to the last", async () => {
    const table = fixture.table("upsert");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, score INT)`);
    const sink = fixture.sink(connection, { table, key: "id", mode: "upsert" });
    const batch = messages([{ id: 1, name: "a", score: 1 }, { id: 2, name: "b", score: 2 }]);
    assert.deepEqual(await sink.write(batch, signal), { failures: [] });
    assert.deepEqual(await sink.write(batch, signal), { failures: [] });
    assert.deepEqual(await fixture.sql(`SELECT id, name, score FROM \`${table}\` ORDER BY id`), [{ id: 1, name: "a", score: 1 }, { id: 2, name: "b", score: 2 }]);

    const duplicates = messages([{ id: 1, name: "first", score: 10 }, { id: 3, name: "c", score: 3 }, { id: 1, name: "last", score: 11 }]);
    assert.deepEqual(await sink.write(duplicates, signal), { failures: [] });
    assert.deepEqual(await fixture.sql(`SELECT id, name, score FROM \`${table}\` ORDER BY id`), [
      { id: 1, name: "last", score: 11 },
      { id: 2, name: "b", score: 2 },
      { id: 3, name: "c", score: 3 },
    ]);
  });

  test("placeholder ceiling: one batch of 20,000 rows × 10 columns is written in chunks", async () => {
    const table = fixture.table("wide");
    const sink = fixture.sink(connection, { table, key: "id", mode: "append", create_table: true });
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i + 1, c1: `v${i}`, c2: i * 2, c3: i / 4, c4: i % 2 === 0, c5: "x", c6: "y", c7: i, c8: { n: i }, c9: "z" }));
    assert.deepEqual(await sink.write(messages(rows), signal), { failures: [] });
    assert.deepEqual(await fixture.sql(`SELECT COUNT(*) AS n, SUM(c7) AS s FROM \`${table}\``), [{ n: "20000", s: "199990000" }]);
    const columns = await fixture.sql(`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [table]);
    assert.deepEqual(
      columns.map((column) => `${String(column.name)} ${String(column.type)}`),
      ["id bigint(20)", "c1 longtext", "c2 bigint(20)", "c3 double", "c4 tinyint(1)", "c5 longtext", "c6 longtext", "c7 bigint(20)", "c8 longtext", "c9 longtext"],
    );
  });

  test("a NOT NULL violation in a batch of 100: 99 rows written, one permanent failure at its index", async () => {
    const table = fixture.table("notnull");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL)`);
    const sink = fixture.sink(connection, { table, mode: "append" });
    const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, name: i === 42 ? null : `n${i}` }));
    const outcome = await sink.write(messages(rows), signal);
    assert.equal(outcome.failures.length, 1);
    assert.equal(outcome.failures[0]?.index, 42);
    const error = outcome.failures[0]?.error;
    assert.ok(error instanceof JunctionError);
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /name/);
    assert.deepEqual(await fixture.sql(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE id <> 42`), [{ n: "99" }]);

    // Append of an existing key: that row fails (duplicate), the new one commits.
    const again = await sink.write(messages([{ id: 1, name: "dup" }, { id: 500, name: "new" }]), signal);
    assert.deepEqual(again.failures.map((failure) => [failure.index, (failure.error as JunctionError).kind]), [[0, "permanent"]]);
    assert.deepEqual(await fixture.sql(`SELECT name FROM \`${table}\` WHERE id IN (1, 500) ORDER BY id`), [{ name: "n1" }, { name: "new" }]);
  });

  test("bad payloads fail alone; an unknown column is a config error for the batch; a closed port fails all as transient", async () => {
    const table = fixture.table("payloads");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, name VARCHAR(50))`);
    const sink = fixture.sink(connection, { table, key: "id" });
    const outcome = await sink.write(messages(["not an object", { id: 1, name: "ok" }, { name: "no key" }, { "bad field": 1, id: 2 }]), signal);
    assert.deepEqual(outcome.failures.map((failure) => [failure.index, (failure.error as JunctionError).kind]), [[0, "permanent"], [2, "permanent"], [3, "permanent"]]);

    const unknown = await sink.write(messages([{ id: 5, nope: 1 }]), signal);
    assert.equal((unknown.failures[0]?.error as JunctionError).kind, "config");

    const down = await fixture.connect({ host: "127.0.0.1", port: 1, user: "root", database: "test" });
    const failed = await fixture.sink(down, { table, key: "id" }).write(messages([{ id: 9 }, { id: 10 }]), signal);
    assert.deepEqual(failed.failures.map((failure) => [failure.index, (failure.error as JunctionError).kind]), [[0, "transient"], [1, "transient"]]);
  });
});
