// @needs-service mariadb
// create_table from a declared schema (comments carrying what MariaDB has no type for), and
// on_schema_change (fail, evolve, freeze) at the start of a run and on write.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { MysqlSinkOptions } from "../../../src/connectors/mysql/schema.js";
import type { RecordSchema } from "../../../src/connectors/record-schema.js";
import type { Sink } from "../../../src/connectors/types.js";
import { JunctionError, errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain, silentLogger } from "../connector-context.js";
import { LEVEL, capturingLogger } from "../log-capture.js";
import { MysqlFixture } from "./mysql-fixture.js";
import type { MysqlConnection } from "./mysql-fixture.js";

const signal = new AbortController().signal;

function messages(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

/** Every portable type, spelled so that it comes back unchanged from MariaDB (date-times with their precision). */
const EVERY_TYPE: RecordSchema = {
  key: ["id"],
  columns: [
    { name: "id", type: { kind: "integer", bytes: 8 }, nullable: false },
    { name: "flag", type: { kind: "boolean" }, nullable: true },
    { name: "small", type: { kind: "integer", bytes: 2 }, nullable: true },
    { name: "whole", type: { kind: "integer", bytes: 4 }, nullable: false },
    { name: "amount", type: { kind: "decimal", precision: 12, scale: 2 }, nullable: true },
    { name: "free", type: { kind: "decimal" }, nullable: true },
    { name: "wide", type: { kind: "decimal", precision: 80, scale: 40 }, nullable: true },
    { name: "single", type: { kind: "float", bytes: 4 }, nullable: true },
    { name: "double", type: { kind: "float", bytes: 8 }, nullable: true },
    { name: "note", type: { kind: "text" }, nullable: true },
    { name: "code", type: { kind: "text", maxLength: 12 }, nullable: true },
    { name: "raw", type: { kind: "bytes" }, nullable: true },
    { name: "doc", type: { kind: "json" }, nullable: true },
    { name: "ident", type: { kind: "uuid" }, nullable: true },
    { name: "day", type: { kind: "date" }, nullable: true },
    { name: "clock", type: { kind: "time", precision: 3 }, nullable: true },
    { name: "stamp", type: { kind: "timestamp", withZone: false, precision: 6 }, nullable: true },
    { name: "instant", type: { kind: "timestamp", withZone: true, precision: 2 }, nullable: true },
  ],
};

const column = (name: string) => EVERY_TYPE.columns.find((candidate) => candidate.name === name) as RecordSchema["columns"][number];

describe("mysql target: declared schema and on_schema_change", { skip: await serviceSkipReason("mariadb") }, () => {
  const fixture = new MysqlFixture();
  let connection: MysqlConnection;
  before(async () => {
    connection = await fixture.connect();
  });
  after(() => fixture.cleanup());

  function sink(options: MysqlSinkOptions, logger = silentLogger): Sink {
    return (connection.sink as NonNullable<MysqlConnection["sink"]>)(options, { integration: "test", logger });
  }

  async function columnTypes(table: string): Promise<string[]> {
    const rows = await fixture.sql(
      "SELECT CONCAT(COLUMN_NAME, ' ', COLUMN_TYPE, IF(IS_NULLABLE = 'NO', ' not null', ''), IF(COLUMN_COMMENT = '', '', CONCAT(' -- ', COLUMN_COMMENT))) AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
      [table],
    );
    return rows.map((row) => String(row.c));
  }

  test("create_table from the declared schema: faithful types, a comment where MariaDB lacks one; describe() gives each type back", async () => {
    const table = fixture.table("every_type");
    await sink({ table, create_table: true }).begin?.({ schema: EVERY_TYPE }, signal);
    assert.deepEqual(await columnTypes(table), [
      "id bigint(20) not null",
      "flag tinyint(1)",
      "small smallint(6)",
      "whole int(11) not null",
      "amount decimal(12,2)",
      'free longtext -- junction:{"kind":"decimal"}',
      'wide longtext -- junction:{"kind":"decimal","precision":80,"scale":40}',
      "single float",
      "double double",
      "note longtext",
      "code varchar(12)",
      "raw longblob",
      "doc longtext",
      "ident uuid",
      "day date",
      "clock time(3)",
      "stamp datetime(6)",
      'instant datetime(2) -- junction:{"kind":"timestamp","withZone":true,"precision":2}',
    ]);
    const source = fixture.source(connection, { table, key: "id" });
    const described = await source.describe?.(signal);
    assert.deepEqual(
      described?.schema?.columns.map(({ name, type, nullable }) => ({ name, type, nullable })),
      EVERY_TYPE.columns,
    );
  });

  test("key columns share InnoDB's 3,072 key bytes: unbounded text as VARCHAR, bytes as VARBINARY, the portable type in a comment", async () => {
    const table = fixture.table("text_key");
    const schema: RecordSchema = { key: [], columns: [column("note"), column("raw"), column("amount")] };
    await sink({ table, key: ["note", "raw"], create_table: true }).begin?.({ schema }, signal);
    assert.deepEqual(await columnTypes(table), [
      'note varchar(384) not null -- junction:{"kind":"text"}',
      'raw varbinary(1536) not null -- junction:{"kind":"bytes"}',
      "amount decimal(12,2)",
    ]);
    const described = await fixture.source(connection, { table, key: ["note", "raw"] }).describe?.(signal);
    assert.deepEqual(described?.schema?.columns.map((c) => c.type), [{ kind: "text" }, { kind: "bytes" }, { kind: "decimal", precision: 12, scale: 2 }]);
  });

  test("values keep their type: an instant with any offset is stored in UTC and read back with Z, booleans and 4-byte floats read back as written", async () => {
    const table = fixture.table("values");
    const schema: RecordSchema = { key: ["id"], columns: [column("id"), column("flag"), column("single"), column("instant"), column("free"), column("doc")] };
    const target = sink({ table, key: "id", create_table: true });
    await target.begin?.({ schema }, signal);
    const written = [
      { id: 1, flag: true, single: 3.14, instant: "2024-03-10T02:30:00.12-08:00", free: "3.14159265358979323846264338327950288419716939937510", doc: "just a string" },
      { id: 2, flag: false, single: 0.1, instant: "2024-03-10T10:30:00.5Z", free: "-1e-40", doc: { a: [1, "二"] } },
    ];
    assert.deepEqual(await target.write(messages(written), signal), { failures: [] });
    assert.deepEqual(await fixture.sql(`SELECT id, instant FROM \`${table}\` ORDER BY id`), [
      { id: "1", instant: "2024-03-10 10:30:00.12" },
      { id: "2", instant: "2024-03-10 10:30:00.50" },
    ]);
    const read = (await drain(fixture.source(connection, { table, key: "id" }))).flatMap((batch) => batch.messages.map((message) => message.payload));
    assert.deepEqual(read, [
      { ...written[0], instant: "2024-03-10T10:30:00.12Z" },
      { ...written[1], instant: "2024-03-10T10:30:00.50Z" },
    ]);
  });

  test("fail (the default): begin refuses declared columns the table lacks, naming them and the option; so does a write with such a field", async () => {
    const table = fixture.table("narrow_fail");
    await fixture.sql(`CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, note LONGTEXT)`);
    const target = sink({ table, key: "id" });
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
    assert.deepEqual(await fixture.sql(`SELECT COUNT(*) AS n FROM \`${table}\``), [{ n: "0" }]);
  });

  test("evolve: declared columns added with their declared types, undeclared fields typed from their values, names compared without case; each logged once", async () => {
    const table = fixture.table("grows");
    await fixture.sql(`CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, note LONGTEXT)`);
    const { logger, lines } = capturingLogger();
    const target = sink({ table, key: "id", on_schema_change: "evolve" }, logger);
    await target.begin?.({ schema: { key: ["id"], columns: [column("id"), column("note"), column("amount"), column("instant")] } }, signal);
    const payload = (id: number, extra: Record<string, unknown>) => ({ id, Note: "n", amount: "1.50", instant: "2024-01-01T00:00:00.25Z", ...extra });
    assert.deepEqual(await target.write(messages([payload(1, { score: null }), payload(2, { score: 2.5, tags: ["a"] })]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([payload(3, { score: 1, tags: ["b"] })]), signal), { failures: [] });
    assert.deepEqual((await columnTypes(table)).slice(2), [
      "amount decimal(12,2)",
      'instant datetime(2) -- junction:{"kind":"timestamp","withZone":true,"precision":2}',
      "score double",
      "tags longtext",
    ]);
    assert.deepEqual(await fixture.sql(`SELECT id, note, amount, score, tags FROM \`${table}\` ORDER BY id`), [
      { id: "1", note: "n", amount: "1.50", score: null, tags: null },
      { id: "2", note: "n", amount: "1.50", score: 2.5, tags: ["a"] },
      { id: "3", note: "n", amount: "1.50", score: 1, tags: ["b"] },
    ]);
    const added = lines.filter((line) => line.level === LEVEL.info && /added column/.test(line.msg)).map((line) => line.column);
    assert.deepEqual(added, ["amount", "instant", "score", "tags"]);
  });

  test("freeze: the table never changes; missing fields are dropped with one warning per column per run", async () => {
    const table = fixture.table("frozen");
    await fixture.sql(`CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, note LONGTEXT)`);
    const { logger, lines } = capturingLogger();
    const target = sink({ table, key: "id", on_schema_change: "freeze" }, logger);
    const warnings = (): unknown[] => lines.filter((line) => line.level === LEVEL.warn).map((line) => line.column);
    await target.begin?.({ schema: { key: ["id"], columns: [column("id"), column("note"), column("amount")] } }, signal);
    assert.deepEqual(await target.write(messages([{ id: 1, note: "a", amount: "1", other: true }, { id: 2, note: "b", amount: "2" }]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([{ id: 3, note: "c", other: false }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other"]);
    await target.begin?.({}, signal);
    assert.deepEqual(await target.write(messages([{ id: 4, note: "d", other: 1 }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other", "other"], "a new run warns again");
    assert.deepEqual(await columnTypes(table), ["id bigint(20) not null", "note longtext"]);
    assert.deepEqual(await fixture.sql(`SELECT id, note FROM \`${table}\` ORDER BY id`), [
      { id: "1", note: "a" },
      { id: "2", note: "b" },
      { id: "3", note: "c" },
      { id: "4", note: "d" },
    ]);
  });
});
