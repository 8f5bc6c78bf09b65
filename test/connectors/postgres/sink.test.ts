// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { freePort } from "../../support/free-port.js";
import { drain, runtimeContext, sinkContext } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

const signal = new AbortController().signal;

function messages(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

function kindOf(error: unknown): string | undefined {
  return error instanceof JunctionError ? error.kind : undefined;
}

describe("postgres sink", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("sink");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  test("type round trip source → sink: numeric, big bigint, timestamptz, jsonb, bytea, unicode text and NULLs; EXCEPT both ways is empty", async () => {
    await fixture.sql(`CREATE TABLE typed_src (
      id int PRIMARY KEY, amount numeric(20,6), big bigint, small bigint, ratio double precision, at timestamptz,
      doc jsonb, raw bytea, label text, flag boolean, day date)`);
    await fixture.sql("CREATE TABLE typed_dst (LIKE typed_src INCLUDING ALL)");
    await fixture.sql(`INSERT INTO typed_src VALUES
      (1, 12345678901234.123456, 9007199254740993, 42, 0.1, '2024-05-01 10:00:00.123456+05:30', '{"a": [1, 2.5, "x"], "b": {"c": null}}', '\\x00ff10', 'héllo "wörld", 日本語 🎉', true, '2024-02-29'),
      (2, -0.000001, -9223372036854775808, 0, -1e300, '1999-12-31 23:59:59+00', '"just a string"', '\\x', E'line1\\nline2,\\\\.\\r\\t''q''', false, '0001-01-01'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (4, 0, 9223372036854775807, -1, 3.5, 'infinity', '[]', '\\xdeadbeef', '', NULL, NULL),
      (5, 1, 1, 1, 1, '2024-01-01 00:00:00+00', '{}', '\\x01', E'\\\\.', true, '2024-01-01')`);
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "typed_src", key: "id", batch_size: 2 }));
    const rows = batches.flatMap((batch) => batch.messages);
    const first = rows[0]?.payload as Record<string, unknown>;
    assert.equal(first.amount, "12345678901234.123456");
    assert.equal(first.big, "9007199254740993");
    assert.equal(first.small, 42);
    assert.equal(first.at, "2024-05-01T04:30:00.123456Z");
    assert.deepEqual(first.doc, { a: [1, 2.5, "x"], b: { c: null } });
    assert.equal(first.raw, Buffer.from([0, 255, 16]).toString("base64"));
    assert.equal(first.day, "2024-02-29");

    const sink = fixture.sink(connection, { table: "typed_dst", key: "id" });
    for (const batch of batches) assert.deepEqual((await sink.write(batch.messages, signal)).failures, []);
    const missing = await fixture.sql("SELECT count(*)::int AS n FROM (SELECT * FROM typed_src EXCEPT SELECT * FROM typed_dst) AS d");
    const extra = await fixture.sql("SELECT count(*)::int AS n FROM (SELECT * FROM typed_dst EXCEPT SELECT * FROM typed_src) AS d");
    assert.deepEqual([missing[0]?.n, extra[0]?.n], [0, 0]);
    const emptyText = await fixture.sql("SELECT label IS NULL AS is_null, label FROM typed_dst WHERE id IN (3, 4) ORDER BY id");
    assert.deepEqual(emptyText, [
      { is_null: true, label: null },
      { is_null: false, label: "" },
    ]);
  });

  test("upsert is idempotent: the same batch twice leaves the same rows", async () => {
    await fixture.sql("CREATE TABLE idem (id int PRIMARY KEY, name text, n int)");
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "idem", key: "id", mode: "upsert" });
    const batch = messages(Array.from({ length: 50 }, (_, i) => ({ id: i, name: `n${i}`, n: i * 2 })));
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    const once = await fixture.sql("SELECT * FROM idem ORDER BY id");
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    assert.deepEqual(await fixture.sql("SELECT * FROM idem ORDER BY id"), once);
    assert.equal(once.length, 50);
  });

  test("duplicate keys inside one batch collapse to the last copy (upsert and append)", async () => {
    await fixture.sql("CREATE TABLE dups (tenant text, id int, name text, PRIMARY KEY (tenant, id))");
    const connection = await fixture.connect();
    const batch = messages([
      { tenant: "a", id: 1, name: "first" },
      { tenant: "b", id: 1, name: "other tenant" },
      { tenant: "a", id: 1, name: "second" },
      { tenant: "a", id: 1, name: "last" },
    ]);
    assert.deepEqual((await fixture.sink(connection, { table: "dups", key: ["tenant", "id"] }).write(batch, signal)).failures, []);
    assert.deepEqual(await fixture.sql("SELECT tenant, id, name FROM dups ORDER BY tenant"), [
      { tenant: "a", id: 1, name: "last" },
      { tenant: "b", id: 1, name: "other tenant" },
    ]);
    await fixture.sql("TRUNCATE dups");
    assert.deepEqual((await fixture.sink(connection, { table: "dups", key: ["tenant", "id"], mode: "append" }).write(batch, signal)).failures, []);
    assert.equal((await fixture.sql("SELECT name FROM dups WHERE tenant = 'a'"))[0]?.name, "last");
  });

  test("a NOT NULL violation in a batch of 100: 99 rows written, one permanent failure at its index", async () => {
    await fixture.sql("CREATE TABLE strict_rows (id int PRIMARY KEY, name text NOT NULL)");
    const connection = await fixture.connect();
    const batch = messages(Array.from({ length: 100 }, (_, i) => ({ id: i, name: i === 37 ? null : `n${i}` })));
    for (const mode of ["append", "upsert"] as const) {
      await fixture.sql("TRUNCATE strict_rows");
      const outcome = await fixture.sink(connection, { table: "strict_rows", key: "id", mode }).write(batch, signal);
      assert.equal(outcome.failures.length, 1);
      assert.equal(outcome.failures[0]?.index, 37);
      assert.equal(kindOf(outcome.failures[0]?.error), "permanent");
      assert.match(String((outcome.failures[0]?.error as Error).message), /null value in column "name"/);
      const written = await fixture.sql("SELECT count(*)::int AS n, bool_or(id = 37) AS has37 FROM strict_rows");
      assert.deepEqual(written[0], { n: 99, has37: false });
    }
  });

  test("a COMMIT that fails (deferred foreign key) fails the whole write, straight and staged; the connection stays usable", async () => {
    await fixture.sql("CREATE TABLE parents (id int PRIMARY KEY)");
    await fixture.sql("INSERT INTO parents VALUES (1)");
    await fixture.sql("CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents DEFERRABLE INITIALLY DEFERRED)");
    const connection = await fixture.connect({ pool_size: 1 });
    const sink = fixture.sink(connection, { table: "children", key: "id" });
    const orphaned = messages([
      { id: 1, parent: 1 },
      { id: 2, parent: 99 },
    ]);
    const straight = await sink.write(orphaned, signal);
    assert.deepEqual(
      straight.failures.map((failure) => [failure.index, kindOf(failure.error)]),
      [
        [0, "permanent"],
        [1, "permanent"],
      ],
    );
    assert.match(String((straight.failures[1]?.error as Error).message), /foreign key/);
    assert.deepEqual(await fixture.sql("SELECT count(*)::int AS n FROM children"), [{ n: 0 }]);
    assert.deepEqual((await sink.write(messages([{ id: 1, parent: 1 }]), signal)).failures, []);
    // The table now has rows: the next writes take the temporary-table path.
    const staged = await sink.write(messages([{ id: 1, parent: 99 }, { id: 3, parent: 1 }]), signal);
    assert.equal(staged.failures.length, 2);
    assert.deepEqual((await sink.write(messages([{ id: 3, parent: 1 }]), signal)).failures, []);
    assert.deepEqual(await fixture.sql("SELECT id, parent FROM children ORDER BY id"), [
      { id: 1, parent: 1 },
      { id: 3, parent: 1 },
    ]);
  });

  test("20,000 rows in one batch go through COPY; create_table infers the columns", async () => {
    const connection = await fixture.connect();
    const sink = fixture.sink(connection, { table: "bulk", key: "id", create_table: true });
    const batch = messages(
      Array.from({ length: 20_000 }, (_, i) => ({ id: i, score: i + 0.5, name: `row "${i}", with, commas\nand newline`, ok: i % 2 === 0, tags: { i } })),
    );
    assert.deepEqual((await sink.write(batch, signal)).failures, []);
    const stats = await fixture.sql("SELECT count(*)::int AS n, sum(score)::float8 AS total FROM bulk");
    assert.deepEqual(stats[0], { n: 20_000, total: 20_000 * 19_999 / 2 + 10_000 });
    const columns = await fixture.sql("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'bulk' ORDER BY ordinal_position", [
      fixture.schema,
    ]);
    assert.deepEqual(
      columns.map((column) => `${column.column_name}:${column.data_type}`),
      ["id:bigint", "score:double precision", "name:text", "ok:boolean", "tags:jsonb"],
    );
    const sample = await fixture.sql("SELECT name, tags FROM bulk WHERE id = 7");
    assert.deepEqual(sample[0], { name: 'row "7", with, commas\nand newline', tags: { i: 7 } });
  });

  // Fields the table lacks are on_schema_change's business (schema-change.test.ts).
  test("a bad payload fails only its message; a missing table fails all as config", async () => {
    await fixture.sql("CREATE TABLE narrow (id int PRIMARY KEY, name text)");
    const connection = await fixture.connect();
    const outcome = await fixture.sink(connection, { table: "narrow", key: "id" }).write(messages([{ id: 1, name: "a" }, "not an object", { id: 4, name: "d" }]), signal);
    assert.deepEqual(
      outcome.failures.map((failure) => [failure.index, kindOf(failure.error)]),
      [[1, "permanent"]],
    );
    assert.equal((await fixture.sql("SELECT count(*)::int AS n FROM narrow"))[0]?.n, 2);

    const missing = await fixture.sink(connection, { table: "not_there" }).write(messages([{ id: 1 }, { id: 2 }]), signal);
    assert.deepEqual(
      missing.failures.map((failure) => [failure.index, kindOf(failure.error)]),
      [
        [0, "config"],
        [1, "config"],
      ],
    );
  });

  test("an unreachable server fails every message as transient", async () => {
    const connection = await postgresConnector.connect({ url: `postgres://postgres@127.0.0.1:${await freePort()}/test` }, runtimeContext(process.cwd()));
    try {
      const sink = (connection.sink as NonNullable<typeof connection.sink>)({ table: "t" }, sinkContext);
      const outcome = await sink.write(messages([{ id: 1 }, { id: 2 }]), signal);
      assert.deepEqual(
        outcome.failures.map((failure) => [failure.index, kindOf(failure.error)]),
        [
          [0, "transient"],
          [1, "transient"],
        ],
      );
    } finally {
      await connection.close();
    }
  });
});
