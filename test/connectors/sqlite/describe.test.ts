// describe() of the sqlite source, and what it reads by declared type: integers beyond 2^53
// exact (also as keyset positions), BOOLEAN as booleans, JSON parsed, BLOBs as base64.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import type { Connection, Source } from "../../../src/connectors/types.js";
import { drain, runtimeContext, sourceContext, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;

const signal = new AbortController().signal;

describe("sqlite source describe() and exact reads", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let connection: SqliteConnection;

  before(async () => {
    ({ dir, remove } = await tempDir());
    const db = openSqlite(join(dir, "typed.db"));
    db.exec(`CREATE TABLE typed (
      id INTEGER PRIMARY KEY, big BIGINT NOT NULL, whole INT, small SMALLINT, amount DECIMAL_TEXT(12,2), legacy NUMERIC(10,2), ratio REAL, single FLOAT,
      note TEXT, code VARCHAR(20), raw BLOB, doc JSON, doc2 JSON_TEXT, flag BOOLEAN, ident UUID_TEXT, day DATE, instant TIMESTAMPTZ_TEXT(6), stamp DATETIME, anything)`);
    const insert = db.prepare("INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.run(1, "9223372036854775807", 1, 1, "12.10", "12.10", 0.5, 3.14, "é 😀", "x", Buffer.from([0, 255]), '{"a":[1,"二"]}', '"just a string"', 1, "123e4567-e89b-12d3-a456-426614174000", "2024-02-29", "2024-03-10T10:30:00.123456Z", "2024-03-10 10:30:00", "9007199254740993");
    insert.run(2, "-9223372036854775808", null, null, null, null, null, null, null, null, null, null, null, 0, null, null, null, null, null);
    insert.run(3, 42, null, null, null, null, null, null, null, null, null, "not json", null, null, null, null, null, null, 1.5);
    db.exec("CREATE TABLE bigkeys (id BIGINT PRIMARY KEY, version INTEGER NOT NULL)");
    const key = db.prepare("INSERT INTO bigkeys VALUES (?, ?)");
    for (const id of ["1", "2", "9007199254740992", "9007199254740993", "9223372036854775806", "9223372036854775807", "-9223372036854775808", "-3"]) key.run(id, "9007199254740995");
    db.close();
    connection = await sqliteConnector.connect({ path: "typed.db" }, runtimeContext(dir));
  });
  after(async () => {
    await connection.close();
    await remove();
  });

  function source(options: SqliteSourceOptions, ctx = sourceContext()): Source {
    return (connection.source as NonNullable<SqliteConnection["source"]>)(options, ctx);
  }

  test("a table: declared types mapped to portable types, NOT NULL, the key and a row count for a full read", async () => {
    const description = await source({ table: "typed", key: "id" }).describe?.(signal);
    assert.deepEqual(
      description?.schema?.columns.map(({ name, type, nullable }) => [name, type, nullable]),
      [
        ["id", { kind: "integer", bytes: 8 }, false],
        ["big", { kind: "integer", bytes: 8 }, false],
        ["whole", { kind: "integer", bytes: 4 }, true],
        ["small", { kind: "integer", bytes: 2 }, true],
        ["amount", { kind: "decimal", precision: 12, scale: 2 }, true],
        ["legacy", { kind: "decimal", precision: 10, scale: 2 }, true],
        ["ratio", { kind: "float", bytes: 8 }, true],
        ["single", { kind: "float", bytes: 4 }, true],
        ["note", { kind: "text" }, true],
        ["code", { kind: "text", maxLength: 20 }, true],
        ["raw", { kind: "bytes" }, true],
        ["doc", { kind: "json" }, true],
        ["doc2", { kind: "json" }, true],
        ["flag", { kind: "boolean" }, true],
        ["ident", { kind: "uuid" }, true],
        ["day", { kind: "date" }, true],
        ["instant", { kind: "timestamp", withZone: true, precision: 6 }, true],
        ["stamp", { kind: "timestamp", withZone: false }, true],
        ["anything", { kind: "text" }, true],
      ],
    );
    assert.deepEqual(description?.schema?.key, ["id"]);
    assert.equal(description?.schema?.columns[4]?.declared, "DECIMAL_TEXT(12,2)");
    assert.equal(description?.estimatedCount, 3);
    const incremental = await source({ table: "typed", key: "id", cursor: "id" }).describe?.(signal);
    assert.equal(incremental?.estimatedCount, undefined);
    const keyless = await source({ table: "typed" }).describe?.(signal);
    assert.deepEqual(keyless?.schema?.key, ["id"], "no key option: the table's PRIMARY KEY");
    const narrow = await source({ table: "typed", columns: ["note"] }).describe?.(signal);
    assert.deepEqual([narrow?.schema?.columns.map((column) => column.name), narrow?.schema?.key], [["note"], []], "a key that is not read is no key");
  });

  test("a query: the declared types of the table columns it selects (through a temporary view); expressions are text", async () => {
    const description = await source({ query: "SELECT id, amount, big + 1 AS bigger, instant FROM typed", key: "id" }).describe?.(signal);
    assert.deepEqual(
      description?.schema?.columns.map(({ name, type }) => [name, type]),
      [
        ["id", { kind: "integer", bytes: 8 }],
        ["amount", { kind: "decimal", precision: 12, scale: 2 }],
        ["bigger", { kind: "text" }],
        ["instant", { kind: "timestamp", withZone: true, precision: 6 }],
      ],
    );
    assert.equal(description?.estimatedCount, undefined);
    // A column that cannot be named in a select list: the query is read as it is.
    const counted = await drain(source({ query: "SELECT id, count(*) FROM typed GROUP BY id", key: "id" }));
    assert.deepEqual(counted.flatMap((batch) => batch.messages.map((message) => message.payload)), [1, 2, 3].map((id) => ({ id, "count(*)": 1 })));
  });

  test("values by declared type: integers beyond 2^53 as exact strings, booleans, parsed JSON, base64 bytes, decimals as written", async () => {
    const payloads = (await drain(source({ table: "typed", key: "id" }))).flatMap((batch) => batch.messages.map((message) => message.payload));
    assert.deepEqual(payloads[0], {
      id: 1,
      big: "9223372036854775807",
      whole: 1,
      small: 1,
      amount: "12.10",
      legacy: 12.1,
      ratio: 0.5,
      single: 3.14,
      note: "é 😀",
      code: "x",
      raw: Buffer.from([0, 255]).toString("base64"),
      doc: { a: [1, "二"] },
      doc2: "just a string",
      flag: true,
      ident: "123e4567-e89b-12d3-a456-426614174000",
      day: "2024-02-29",
      instant: "2024-03-10T10:30:00.123456Z",
      stamp: "2024-03-10 10:30:00",
      anything: "9007199254740993",
    });
    assert.equal((payloads[1] as { big: string }).big, "-9223372036854775808");
    assert.equal((payloads[1] as { flag: boolean }).flag, false);
    assert.equal((payloads[2] as { doc: string }).doc, "not json", "text that is not JSON stays text");
    assert.equal((payloads[2] as { big: number }).big, 42);
  });

  test("keys and cursors beyond 2^53 page and checkpoint exactly", async () => {
    const ctx = sourceContext();
    const first = await drain(source({ table: "bigkeys", key: "id", cursor: "version", batch_size: 3 }, ctx));
    const ids = first.flatMap((batch) => batch.messages.map((message) => (message.payload as { id: unknown }).id));
    assert.deepEqual(ids, ["-9223372036854775808", -3, 1, 2, "9007199254740992", "9007199254740993", "9223372036854775806", "9223372036854775807"]);
    assert.deepEqual(ctx.checkpoints.value, { cursor: "9007199254740995", key: "9223372036854775807" });
    const db = openSqlite(join(dir, "typed.db"));
    db.prepare("INSERT INTO bigkeys VALUES (?, ?)").run("9223372036854775805", "9007199254740996");
    db.close();
    const next = await drain(source({ table: "bigkeys", key: "id", cursor: "version" }, ctx));
    assert.deepEqual(next.flatMap((batch) => batch.messages.map((message) => message.payload)), [{ id: "9223372036854775805", version: "9007199254740996" }]);
  });
});
