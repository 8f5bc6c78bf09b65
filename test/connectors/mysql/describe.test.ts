// @needs-service mariadb
// describe() of the mysql keyset source: declared types of a table from information_schema
// (and Junction's column comments), of a query from the result metadata, and InnoDB's row
// estimate for full reads.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { MysqlFixture } from "./mysql-fixture.js";
import type { MysqlConnection } from "./mysql-fixture.js";

const signal = new AbortController().signal;

describe("mysql source describe()", { skip: await serviceSkipReason("mariadb") }, () => {
  const fixture = new MysqlFixture();
  let connection: MysqlConnection;
  let table: string;
  before(async () => {
    connection = await fixture.connect();
    table = fixture.table("typed");
    await fixture.sql(`CREATE TABLE \`${table}\` (
      id BIGINT NOT NULL PRIMARY KEY, flag BOOLEAN, tiny TINYINT, small SMALLINT NOT NULL, usmall SMALLINT UNSIGNED, medium MEDIUMINT, whole INT, uwhole INT UNSIGNED,
      ubig BIGINT UNSIGNED, amount DECIMAL(38,10), single FLOAT, dbl DOUBLE, note TEXT, code VARCHAR(12), fixed CHAR(3), raw BLOB, bin VARBINARY(16),
      doc JSON, ident UUID, day DATE, clock TIME(3), stamp DATETIME, stamp6 DATETIME(6), instant TIMESTAMP(3) NULL, yr YEAR, choice ENUM('a','b'),
      zoned DATETIME(6) COMMENT 'junction:{"kind":"timestamp","withZone":true}', other_comment INT COMMENT 'just a note', updated_at DATETIME(6) NOT NULL,
      KEY (updated_at, id)) DEFAULT CHARSET=utf8mb4`);
    await fixture.sql(`INSERT INTO \`${table}\` (id, small, updated_at) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) SELECT i, 1, NOW(6) FROM n`);
    await fixture.sql(`ANALYZE TABLE \`${table}\``);
  });
  after(() => fixture.cleanup());

  test("a table: every column in order with its portable type (comments win), nullability and declared spelling; the key; a row estimate", async () => {
    const description = await fixture.source(connection, { table, key: "id", mode: "full_refresh" }).describe?.(signal);
    assert.deepEqual(
      description?.schema?.columns.map(({ name, type, nullable }) => [name, type, nullable]),
      [
        ["id", { kind: "integer", bytes: 8 }, false],
        ["flag", { kind: "boolean" }, true],
        ["tiny", { kind: "integer", bytes: 2 }, true],
        ["small", { kind: "integer", bytes: 2 }, false],
        ["usmall", { kind: "integer", bytes: 4 }, true],
        ["medium", { kind: "integer", bytes: 4 }, true],
        ["whole", { kind: "integer", bytes: 4 }, true],
        ["uwhole", { kind: "integer", bytes: 8 }, true],
        ["ubig", { kind: "decimal", precision: 20, scale: 0 }, true],
        ["amount", { kind: "decimal", precision: 38, scale: 10 }, true],
        ["single", { kind: "float", bytes: 4 }, true],
        ["dbl", { kind: "float", bytes: 8 }, true],
        ["note", { kind: "text" }, true],
        ["code", { kind: "text", maxLength: 12 }, true],
        ["fixed", { kind: "text", maxLength: 3 }, true],
        ["raw", { kind: "bytes" }, true],
        ["bin", { kind: "bytes" }, true],
        ["doc", { kind: "json" }, true],
        ["ident", { kind: "uuid" }, true],
        ["day", { kind: "date" }, true],
        ["clock", { kind: "time", precision: 3 }, true],
        ["stamp", { kind: "timestamp", withZone: false, precision: 0 }, true],
        ["stamp6", { kind: "timestamp", withZone: false, precision: 6 }, true],
        ["instant", { kind: "timestamp", withZone: true, precision: 3 }, true],
        ["yr", { kind: "integer", bytes: 2 }, true],
        ["choice", { kind: "text" }, true],
        ["zoned", { kind: "timestamp", withZone: true }, true],
        ["other_comment", { kind: "integer", bytes: 4 }, true],
        ["updated_at", { kind: "timestamp", withZone: false, precision: 6 }, false],
      ],
    );
    assert.deepEqual(description?.schema?.key, ["id"]);
    assert.equal(description?.schema?.columns.find((column) => column.name === "amount")?.declared, "decimal(38,10)");
    // InnoDB's TABLE_ROWS is an estimate from sampled index pages.
    assert.ok(description?.estimatedCount !== undefined && description.estimatedCount > 100 && description.estimatedCount < 1000, `estimate ${description?.estimatedCount}`);
  });

  test("columns restricts what is described (key and cursor always included); incremental runs give no estimate", async () => {
    const description = await fixture.source(connection, { table, key: "id", cursor: "updated_at", columns: ["note", "amount"] }).describe?.(signal);
    assert.deepEqual(description?.schema?.columns.map((column) => column.name), ["id", "amount", "note", "updated_at"]);
    assert.equal(description?.estimatedCount, undefined);
  });

  test("a query: its result columns from the result metadata (best effort: no comments there)", async () => {
    const description = await fixture.source(connection, { query: `SELECT id, amount, code, flag, single, doc, ident, raw, instant, stamp6, amount * 2 AS doubled, zoned FROM \`${table}\``, key: "id" }).describe?.(signal);
    assert.deepEqual(
      description?.schema?.columns.map(({ name, type, nullable }) => [name, type, nullable]),
      [
        ["id", { kind: "integer", bytes: 8 }, false],
        ["amount", { kind: "decimal", precision: 38, scale: 10 }, true],
        ["code", { kind: "text", maxLength: 12 }, true],
        ["flag", { kind: "boolean" }, true],
        ["single", { kind: "float", bytes: 4 }, true],
        ["doc", { kind: "json" }, true],
        ["ident", { kind: "uuid" }, true],
        ["raw", { kind: "bytes" }, true],
        ["instant", { kind: "timestamp", withZone: true, precision: 3 }, true],
        ["stamp6", { kind: "timestamp", withZone: false, precision: 6 }, true],
        ["doubled", { kind: "decimal", precision: 39, scale: 10 }, true],
        ["zoned", { kind: "timestamp", withZone: false, precision: 6 }, true],
      ],
    );
    assert.equal(description?.estimatedCount, undefined);
  });

  test("a table that does not exist is a config error naming it", async () => {
    await assert.rejects(fixture.source(connection, { table: "jx_not_there", key: "id" }).describe?.(signal) as Promise<unknown>, (error: unknown) => error instanceof JunctionError && error.kind === "config" && /jx_not_there/.test(error.message));
  });
});
