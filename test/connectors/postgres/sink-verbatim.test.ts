// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

const signal = new AbortController().signal;

const COLUMNS = `id int PRIMARY KEY, amount numeric(20,6), big bigint, ratio double precision, at timestamptz, local timestamp,
  doc jsonb, raw bytea, label text, flag boolean, day date, tags text[]`;

const ROWS = `(1, 12345678901234.123456, 9007199254740993, 0.1, '2024-05-01 10:00:00.123456+05:30', '2024-05-01 10:00:00.5', '{"a": [1, 2.5, "x"], "b": {"c": null}}', '\\x00ff10', 'héllo "wörld", 日本語 🎉', true, '2024-02-29', '{a,"b c"}'),
  (2, -0.000001, -9223372036854775808, -1e300, '1999-12-31 23:59:59+00', '1999-12-31 23:59:59', '"just a string"', '\\x', E'line1\\nline2,\\\\.\\r\\t''q''', false, '0001-01-01', '{}'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 9223372036854775807, 'NaN', 'infinity', '-infinity', '[]', '\\xdeadbeef', '', NULL, NULL, '{NULL}'),
  (5, 1, 1, 1, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00', '{}', '\\x01', E'\\\\N', true, '2024-01-01', '{"\\\\"}')`;

/** Whether each message still carries its verbatim row, i.e. its payload was never decoded. */
function undecoded(messages: readonly Message[]): boolean[] {
  return messages.map((message) => message.verbatim !== undefined);
}

describe("postgres target taking a postgres source's rows as they are (verbatim COPY lines)", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("verbatim");
  before(async () => {
    await fixture.setUp();
    await fixture.sql(`CREATE TABLE src (${COLUMNS})`);
    await fixture.sql(`INSERT INTO src VALUES ${ROWS}`);
  });
  after(() => fixture.tearDown());

  async function differences(table: string): Promise<[number, number]> {
    const [missing] = await fixture.sql(`SELECT count(*)::int AS n FROM (SELECT * FROM src EXCEPT SELECT * FROM ${table}) AS d`);
    const [extra] = await fixture.sql(`SELECT count(*)::int AS n FROM (SELECT * FROM ${table} EXCEPT SELECT * FROM src) AS d`);
    return [missing?.n as number, extra?.n as number];
  }

  test("same column types: the rows arrive identical and no payload is ever decoded", async () => {
    await fixture.sql(`CREATE TABLE same (${COLUMNS})`);
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "src", key: "id", batch_size: 2 }));
    const messages = batches.flatMap((batch) => batch.messages);
    assert.equal(messages.length, 5);
    assert.deepEqual(undecoded(messages), [true, true, true, true, true]);
    const sink = fixture.sink(connection, { table: "same", key: "id" });
    for (const batch of batches) assert.deepEqual((await sink.write(batch.messages, signal)).failures, []);
    assert.deepEqual(undecoded(messages), [true, true, true, true, true], "the target decoded a payload");
    assert.deepEqual(await differences("same"), [0, 0]);
    // Written twice (upsert): still the same rows.
    for (const batch of batches) assert.deepEqual((await sink.write(batch.messages, signal)).failures, []);
    assert.deepEqual(await differences("same"), [0, 0]);
  });

  test("a column of another type, or a payload read on the way, takes the payload path with the same result", async () => {
    await fixture.sql(`CREATE TABLE wider (${COLUMNS.replace("label text", "label varchar(200)")})`);
    await fixture.sql(`CREATE TABLE same2 (${COLUMNS})`);
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "src", key: "id", batch_size: 5 }));
    const messages = batches.flatMap((batch) => batch.messages);
    const wider = fixture.sink(connection, { table: "wider", key: "id" });
    for (const batch of batches) assert.deepEqual((await wider.write(batch.messages, signal)).failures, []);
    assert.deepEqual(undecoded(messages), [false, false, false, false, false]);
    const [{ n }] = (await fixture.sql("SELECT count(*)::int AS n FROM (SELECT * FROM src EXCEPT SELECT id, amount, big, ratio, at, local, doc, raw, label::text, flag, day, tags FROM wider) AS d")) as [{ n: number }];
    assert.equal(n, 0);

    // Decoded messages (as after a filter transform read them) go the payload path into a same-typed table too.
    const same2 = fixture.sink(connection, { table: "same2", key: "id" });
    for (const batch of batches) assert.deepEqual((await same2.write(batch.messages, signal)).failures, []);
    assert.deepEqual(await differences("same2"), [0, 0]);
  });

  test("duplicate keys in one write collapse to the last copy; a row the table refuses fails alone", async () => {
    await fixture.sql(`CREATE TABLE checked (${COLUMNS}, CHECK (id <> 4))`);
    const connection = await fixture.connect();
    const first = (await drain(fixture.source(connection, { table: "src", key: "id", batch_size: 10 }))).flatMap((batch) => batch.messages);
    await fixture.sql("UPDATE src SET label = 'changed' WHERE id = 2");
    try {
      const second = (await drain(fixture.source(connection, { table: "src", key: "id", batch_size: 10 }))).flatMap((batch) => batch.messages);
      const write = [...first, ...second.filter((message) => message.key === "2")];
      const sink = fixture.sink(connection, { table: "checked", key: "id" });
      const outcome = await sink.write(write, signal);
      assert.deepEqual(
        outcome.failures.map((failure) => [failure.index, (failure.error as { kind: string }).kind]),
        [[3, "permanent"]],
      );
      assert.match(String(outcome.failures[0]?.error), /check constraint/);
      const rows = await fixture.sql("SELECT id, label FROM checked ORDER BY id");
      assert.deepEqual(
        rows.map((row) => row.id),
        [1, 2, 3, 5],
      );
      assert.equal(rows[1]?.label, "changed");
      const [{ n }] = (await fixture.sql("SELECT count(*)::int AS n FROM (SELECT * FROM src WHERE id <> 4 EXCEPT SELECT * FROM checked) AS d")) as [{ n: number }];
      assert.equal(n, 0);
    } finally {
      await fixture.sql(`UPDATE src SET label = 'line1' || E'\\n' || 'line2,\\.' || E'\\r\\t' || '''q''' WHERE id = 2`);
    }
  });
});
