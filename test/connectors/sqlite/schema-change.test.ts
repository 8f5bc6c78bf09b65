// create_table from a declared schema (declared types that keep TEXT affinity for exact
// values), values converted by column type, and on_schema_change (fail, evolve, freeze).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import type { RecordSchema } from "../../../src/connectors/record-schema.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import { JunctionError, errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { drain, runtimeContext, silentLogger, sourceContext, tempDir } from "../connector-context.js";
import { LEVEL, capturingLogger } from "../log-capture.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

const signal = new AbortController().signal;

function messages(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

/** Every portable type, spelled so that it comes back unchanged from SQLite. */
const EVERY_TYPE: RecordSchema = {
  key: ["id"],
  columns: [
    { name: "id", type: { kind: "integer", bytes: 8 }, nullable: false },
    { name: "flag", type: { kind: "boolean" }, nullable: true },
    { name: "small", type: { kind: "integer", bytes: 2 }, nullable: true },
    { name: "whole", type: { kind: "integer", bytes: 4 }, nullable: false },
    { name: "amount", type: { kind: "decimal", precision: 12, scale: 2 }, nullable: true },
    { name: "free", type: { kind: "decimal" }, nullable: true },
    { name: "single", type: { kind: "float", bytes: 4 }, nullable: true },
    { name: "double", type: { kind: "float", bytes: 8 }, nullable: true },
    { name: "note", type: { kind: "text" }, nullable: true },
    { name: "code", type: { kind: "text", maxLength: 12 }, nullable: true },
    { name: "raw", type: { kind: "bytes" }, nullable: true },
    { name: "doc", type: { kind: "json" }, nullable: true },
    { name: "ident", type: { kind: "uuid" }, nullable: true },
    { name: "day", type: { kind: "date" }, nullable: true },
    { name: "clock", type: { kind: "time", precision: 3 }, nullable: true },
    { name: "stamp", type: { kind: "timestamp", withZone: false }, nullable: true },
    { name: "instant", type: { kind: "timestamp", withZone: true, precision: 6 }, nullable: true },
  ],
};

const column = (name: string) => EVERY_TYPE.columns.find((candidate) => candidate.name === name) as RecordSchema["columns"][number];

describe("sqlite target: declared schema and on_schema_change", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let connection: SqliteConnection;

  before(async () => {
    ({ dir, remove } = await tempDir());
    connection = await sqliteConnector.connect({ path: "target.db" }, runtimeContext(dir));
  });
  after(async () => {
    await connection.close();
    await remove();
  });

  function sink(options: SqliteSinkOptions, logger = silentLogger): Sink {
    return (connection.sink as NonNullable<SqliteConnection["sink"]>)(options, { integration: "test", logger });
  }

  function query(sql: string): unknown[] {
    const db = openSqlite(join(dir, "target.db"), { readonly: true });
    try {
      return db.prepare(sql).all().map((row) => ({ ...row }));
    } finally {
      db.close();
    }
  }

  function exec(sql: string): void {
    const db = openSqlite(join(dir, "target.db"));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  }

  const declaredTypes = (table: string) => query(`SELECT name || ' ' || type || CASE WHEN "notnull" = 1 THEN ' not null' ELSE '' END AS c FROM pragma_table_info('${table}')`).map((row) => (row as { c: string }).c);

  test("create_table from the declared schema: declared types that name the portable type; describe() gives each type back", async () => {
    await sink({ table: "every_type", create_table: true }).begin?.({ schema: EVERY_TYPE }, signal);
    assert.deepEqual(declaredTypes("every_type"), [
      "id BIGINT not null",
      "flag BOOLEAN",
      "small SMALLINT",
      "whole INT not null",
      "amount DECIMAL_TEXT(12,2)",
      "free DECIMAL_TEXT",
      "single FLOAT",
      "double DOUBLE",
      "note TEXT",
      "code VARCHAR(12)",
      "raw BLOB",
      "doc JSON_TEXT",
      "ident UUID_TEXT",
      "day DATE_TEXT",
      "clock TIME_TEXT(3)",
      "stamp TIMESTAMP_TEXT",
      "instant TIMESTAMPTZ_TEXT(6)",
    ]);
    const source = (connection.source as NonNullable<SqliteConnection["source"]>)({ table: "every_type", key: "id" }, sourceContext());
    const described = await source.describe?.(signal);
    assert.deepEqual(
      described?.schema?.columns.map(({ name, type, nullable }) => ({ name, type, nullable })),
      EVERY_TYPE.columns,
    );
  });

  test("_TEXT types keep TEXT affinity: an exact decimal stays as written where NUMERIC would make it a float", async () => {
    exec(`CREATE TABLE affinity (exact DECIMAL_TEXT(12,2), numeric NUMERIC(12,2), instant TIMESTAMPTZ_TEXT(6), legacy TIMESTAMP)`);
    exec(`INSERT INTO affinity VALUES ('12.10', '12.10', '2024-01-01', '20240101')`);
    assert.deepEqual(query("SELECT exact, typeof(exact) AS a, numeric, typeof(numeric) AS b, typeof(instant) AS c, typeof(legacy) AS d FROM affinity"), [
      { exact: "12.10", a: "text", numeric: 12.1, b: "real", c: "text", d: "integer" },
    ]);
  });

  test("values follow the column's type: JSON of any value (a string too), base64 text into bytes, booleans, big integers, and back", async () => {
    const schema: RecordSchema = { key: ["id"], columns: [column("id"), column("flag"), column("amount"), column("raw"), column("doc"), column("instant")] };
    const target = sink({ table: "values", key: "id", create_table: true });
    await target.begin?.({ schema }, signal);
    const written = [
      { id: "9223372036854775807", flag: true, amount: "12.10", raw: Buffer.from([0, 1, 255]).toString("base64"), doc: "just a string", instant: "2024-03-10T10:30:00.123456Z" },
      { id: 2, flag: false, amount: "-0.01", raw: "", doc: { a: [1, "二", null] }, instant: null },
    ];
    assert.deepEqual(await target.write(messages(written), signal), { failures: [] });
    assert.deepEqual(query("SELECT CAST(id AS TEXT) AS id, typeof(amount) AS amount, typeof(raw) AS raw, hex(raw) AS bytes, doc FROM \"values\" ORDER BY id"), [
      { id: "2", amount: "text", raw: "blob", bytes: "", doc: '{"a":[1,"二",null]}' },
      { id: "9223372036854775807", amount: "text", raw: "blob", bytes: "0001FF", doc: '"just a string"' },
    ]);
    const source = (connection.source as NonNullable<SqliteConnection["source"]>)({ table: "values", key: "id" }, sourceContext());
    const read = (await drain(source)).flatMap((batch) => batch.messages.map((message) => message.payload));
    assert.deepEqual(read, [written[1], written[0]]);
  });

  test("fail (the default): begin refuses declared columns the table lacks, naming them and the option; so does a write with such a field", async () => {
    exec("CREATE TABLE narrow_fail (id BIGINT PRIMARY KEY, note TEXT)");
    const target = sink({ table: "narrow_fail", key: "id" });
    await assert.rejects(target.begin?.({ schema: { key: ["id"], columns: [column("id"), column("note"), column("amount"), column("doc")] } }, signal) as Promise<void>, (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "config");
      assert.match(error.message, /columns the table lacks \(amount, doc\)/);
      assert.match(error.message, /on_schema_change: evolve/);
      return true;
    });
    await target.begin?.({}, signal);
    const outcome = await target.write(messages([{ id: 1, note: "a" }, { id: 2, note: "b", extra: 1 }]), signal);
    assert.deepEqual(outcome.failures.map((failure) => [failure.index, errorKind(failure.error)]), [[0, "config"], [1, "config"]]);
    assert.match(String((outcome.failures[0]?.error as Error).message), /\(extra\)/);
    assert.deepEqual(query("SELECT count(*) AS n FROM narrow_fail"), [{ n: 0 }]);
  });

  test("a missing table without create_table fails begin as a config error", async () => {
    await assert.rejects(sink({ table: "not_there", key: "id" }).begin?.({}, signal) as Promise<void>, (error: unknown) => errorKind(error) === "config" && /not_there/.test(String(error)));
  });

  test("evolve: declared columns added with their declared types, undeclared fields typed from their values, names compared without case; each logged once", async () => {
    exec("CREATE TABLE grows (id BIGINT PRIMARY KEY, note TEXT)");
    const { logger, lines } = capturingLogger();
    const target = sink({ table: "grows", key: "id", on_schema_change: "evolve" }, logger);
    await target.begin?.({ schema: { key: ["id"], columns: [column("id"), column("note"), column("amount"), column("instant")] } }, signal);
    const payload = (id: number, extra: Record<string, unknown>) => ({ id, NOTE: "n", amount: "1.50", instant: "2024-01-01T00:00:00.25Z", ...extra });
    assert.deepEqual(await target.write(messages([payload(1, { score: null }), payload(2, { score: 2.5, tags: ["a"] })]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([payload(3, { score: 1, tags: ["b"] })]), signal), { failures: [] });
    assert.deepEqual(declaredTypes("grows").slice(2), ["amount DECIMAL_TEXT(12,2)", "instant TIMESTAMPTZ_TEXT(6)", "score DOUBLE", "tags JSON_TEXT"]);
    assert.deepEqual(query("SELECT id, note, amount, score, tags FROM grows ORDER BY id"), [
      { id: 1, note: "n", amount: "1.50", score: null, tags: null },
      { id: 2, note: "n", amount: "1.50", score: 2.5, tags: '["a"]' },
      { id: 3, note: "n", amount: "1.50", score: 1, tags: '["b"]' },
    ]);
    const added = lines.filter((line) => line.level === LEVEL.info && /added column/.test(line.msg)).map((line) => line.column);
    assert.deepEqual(added, ["amount", "instant", "score", "tags"]);
  });

  test("freeze: the table never changes; missing fields are dropped with one warning per column per run", async () => {
    exec("CREATE TABLE frozen (id BIGINT PRIMARY KEY, note TEXT)");
    const { logger, lines } = capturingLogger();
    const target = sink({ table: "frozen", key: "id", on_schema_change: "freeze" }, logger);
    const warnings = (): unknown[] => lines.filter((line) => line.level === LEVEL.warn).map((line) => line.column);
    await target.begin?.({ schema: { key: ["id"], columns: [column("id"), column("note"), column("amount")] } }, signal);
    assert.deepEqual(await target.write(messages([{ id: 1, note: "a", amount: "1", other: true }, { id: 2, note: "b", amount: "2" }]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([{ id: 3, note: "c", other: false }, { id: 4, other: 5 }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other"]);
    await target.begin?.({}, signal);
    assert.deepEqual(await target.write(messages([{ id: 5, note: "e", other: 1 }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other", "other"], "a new run warns again");
    assert.deepEqual(declaredTypes("frozen"), ["id BIGINT", "note TEXT"]);
    assert.deepEqual(query("SELECT id, note FROM frozen ORDER BY id"), [
      { id: 1, note: "a" },
      { id: 2, note: "b" },
      { id: 3, note: "c" },
      { id: 4, note: null },
      { id: 5, note: "e" },
    ]);
  });
});
