// @needs-service postgres
// describe() of the postgres keyset source: declared types of a table (domains, enums,
// arrays, NOT NULL) and of a query, and the planner's row estimate for full reads.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../../src/core/errors.js";
import type { SourceDescription } from "../../../src/connectors/types.js";
import { serviceSkipReason } from "../../support/services.js";
import { PostgresFixture } from "./postgres-fixture.js";
import type { PostgresConnection } from "./postgres-fixture.js";

const signal = new AbortController().signal;

describe("postgres source describe()", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("describe");
  let connection: PostgresConnection;
  before(async () => {
    await fixture.setUp();
    connection = await fixture.connect();
    await fixture.sql("CREATE DOMAIN price AS numeric(10,3)");
    await fixture.sql("CREATE TYPE mood AS ENUM ('ok', 'meh')");
    await fixture.sql(`CREATE TABLE typed (
      id bigint PRIMARY KEY, small smallint NOT NULL, whole integer, amount numeric(38,10), free numeric, scaled numeric(5,-2),
      single real, double double precision, flag boolean, note text, code varchar(12), fixed char(3), raw bytea, doc jsonb, loose json,
      ident uuid, day date, clock time, clock_ms time(3), stamp timestamp, stamp_ms timestamp(3), instant timestamptz, instant_s timestamptz(0),
      cost price, feeling mood, tags text[], span interval, updated_at timestamptz NOT NULL DEFAULT now())`);
    await fixture.sql("INSERT INTO typed (id, small) SELECT i, 1 FROM generate_series(1, 500) AS i");
    await fixture.sql("ANALYZE typed");
  });
  after(() => fixture.tearDown());

  async function described(options: Parameters<typeof fixture.source>[1]): Promise<SourceDescription> {
    const source = fixture.source(connection, options);
    assert.ok(source.describe, "the keyset source describes itself");
    return source.describe(signal);
  }

  test("a table: every column in order with its portable type, declared spelling and nullability; the key; a row estimate", async () => {
    const description = await described({ table: "typed", key: "id", mode: "full_refresh" });
    const columns = description.schema?.columns.map(({ name, type, nullable }) => [name, type, nullable]);
    assert.deepEqual(columns, [
      ["id", { kind: "integer", bytes: 8 }, false],
      ["small", { kind: "integer", bytes: 2 }, false],
      ["whole", { kind: "integer", bytes: 4 }, true],
      ["amount", { kind: "decimal", precision: 38, scale: 10 }, true],
      ["free", { kind: "decimal" }, true],
      ["scaled", { kind: "decimal", precision: 7, scale: 0 }, true],
      ["single", { kind: "float", bytes: 4 }, true],
      ["double", { kind: "float", bytes: 8 }, true],
      ["flag", { kind: "boolean" }, true],
      ["note", { kind: "text" }, true],
      ["code", { kind: "text", maxLength: 12 }, true],
      ["fixed", { kind: "text", maxLength: 3 }, true],
      ["raw", { kind: "bytes" }, true],
      ["doc", { kind: "json" }, true],
      ["loose", { kind: "json" }, true],
      ["ident", { kind: "uuid" }, true],
      ["day", { kind: "date" }, true],
      ["clock", { kind: "time" }, true],
      ["clock_ms", { kind: "time", precision: 3 }, true],
      ["stamp", { kind: "timestamp", withZone: false }, true],
      ["stamp_ms", { kind: "timestamp", withZone: false, precision: 3 }, true],
      ["instant", { kind: "timestamp", withZone: true }, true],
      ["instant_s", { kind: "timestamp", withZone: true, precision: 0 }, true],
      ["cost", { kind: "decimal", precision: 10, scale: 3 }, true],
      ["feeling", { kind: "text" }, true],
      ["tags", { kind: "json" }, true],
      ["span", { kind: "text" }, true],
      ["updated_at", { kind: "timestamp", withZone: true }, false],
    ]);
    assert.deepEqual(description.schema?.key, ["id"]);
    const declared = Object.fromEntries(description.schema?.columns.map((column) => [column.name, column.declared]) ?? []);
    assert.equal(declared.amount, "numeric(38,10)");
    assert.equal(declared.cost, "numeric(10,3)", "a domain is described as its base type");
    assert.equal(declared.instant_s, "timestamp(0) with time zone");
    assert.equal(description.estimatedCount, 500);
  });

  test("columns restricts what is described (key and cursor always included); incremental runs give no estimate", async () => {
    const description = await described({ table: "typed", key: "id", cursor: "updated_at", columns: ["note", "amount"] });
    assert.deepEqual(description.schema?.columns.map((column) => column.name), ["note", "amount", "updated_at", "id"]);
    assert.equal(description.estimatedCount, undefined);
  });

  test("a query: its result columns, typed from the field OIDs and modifiers, all nullable; no estimate", async () => {
    const description = await described({ query: "SELECT id, amount * 2 AS doubled, code, instant_s, cost, left(note, 3) AS short FROM typed", key: "id" });
    assert.deepEqual(
      description.schema?.columns.map(({ name, type, nullable }) => [name, type, nullable]),
      [
        ["id", { kind: "integer", bytes: 8 }, true],
        ["doubled", { kind: "decimal" }, true],
        ["code", { kind: "text", maxLength: 12 }, true],
        ["instant_s", { kind: "timestamp", withZone: true, precision: 0 }, true],
        ["cost", { kind: "decimal", precision: 10, scale: 3 }, true],
        ["short", { kind: "text" }, true],
      ],
    );
    assert.equal(description.estimatedCount, undefined);
  });

  test("a table that does not exist is a config error naming it", async () => {
    await assert.rejects(described({ table: "nope", key: "id" }), (error: unknown) => error instanceof JunctionError && error.kind === "config" && /nope/.test(error.message));
  });
});
