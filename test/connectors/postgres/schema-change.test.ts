// @needs-service postgres
// create_table from a declared schema, and on_schema_change (fail, evolve, freeze) at the
// start of a run and on write, against a real PostgreSQL.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { describePostgresTable } from "../../../src/connectors/postgres/describe.js";
import { PostgresDatabase } from "../../../src/connectors/postgres/database.js";
import type { PostgresSinkOptions } from "../../../src/connectors/postgres/schema.js";
import type { RecordSchema } from "../../../src/connectors/record-schema.js";
import type { Sink } from "../../../src/connectors/types.js";
import { loadConfigFromString } from "../../../src/config/index.js";
import { JunctionError, errorKind } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { tempDir } from "../../support/temp-dir.js";
import { silentLogger } from "../connector-context.js";
import { LEVEL, capturingLogger } from "../log-capture.js";
import type { LogLine } from "../log-capture.js";
import { PostgresFixture } from "./postgres-fixture.js";
import type { PostgresConnection } from "./postgres-fixture.js";

const signal = new AbortController().signal;

function messages(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

/** Every portable type, spelled so that it comes back unchanged from PostgreSQL. */
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
    { name: "instant", type: { kind: "timestamp", withZone: true, precision: 2 }, nullable: true },
  ],
};

describe("postgres target: declared schema and on_schema_change", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("schema_change");
  let connection: PostgresConnection;
  let database: PostgresDatabase;
  before(async () => {
    await fixture.setUp();
    connection = await fixture.connect();
    database = new PostgresDatabase("describe", { url: postgresTestUrl(), schema: fixture.schema }, process.cwd(), silentLogger);
  });
  after(async () => {
    await database.close();
    await fixture.tearDown();
  });

  function sink(options: PostgresSinkOptions, logger = silentLogger): Sink {
    return (connection.sink as NonNullable<PostgresConnection["sink"]>)(options, { integration: "test", logger });
  }

  async function columnTypes(table: string): Promise<string[]> {
    const rows = await fixture.sql<{ column: string }>(
      `SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS column
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [`"${fixture.schema}".${table}`],
    );
    return rows.map((row) => row.column);
  }

  test("create_table from the declared schema: each portable type comes back as itself, NOT NULL and the key kept", async () => {
    await sink({ table: "every_type", create_table: true }).begin?.({ schema: EVERY_TYPE }, signal);
    const described = await describePostgresTable(database, { table: "every_type" }, ["id"]);
    assert.deepEqual(
      described.columns.map(({ name, type, nullable }) => ({ name, type, nullable })),
      EVERY_TYPE.columns,
    );
    assert.deepEqual(await columnTypes("every_type"), [
      "id bigint not null",
      "flag boolean",
      "small smallint",
      "whole integer not null",
      "amount numeric(12,2)",
      "free numeric",
      "single real",
      "double double precision",
      "note text",
      "code character varying(12)",
      "raw bytea",
      "doc jsonb",
      "ident uuid",
      "day date",
      "clock time(3) without time zone",
      "stamp timestamp without time zone",
      "instant timestamp(2) with time zone",
    ]);
    const key = await fixture.sql<{ key: string }>(`SELECT pg_get_constraintdef(oid) AS key FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'p'`, [`"${fixture.schema}".every_type`]);
    assert.deepEqual(key, [{ key: "PRIMARY KEY (id)" }], "no key option: the source's key");
  });

  test("the target's key option wins over the source's for the PRIMARY KEY; columns limits what is created", async () => {
    const schema: RecordSchema = { key: ["id"], columns: [...EVERY_TYPE.columns.slice(0, 4)] };
    await sink({ table: "keyed", key: ["small", "whole"], columns: ["flag"], create_table: true }).begin?.({ schema }, signal);
    assert.deepEqual(await columnTypes("keyed"), ["flag boolean", "small smallint not null", "whole integer not null"]);
  });

  test("fail (the default): begin refuses declared columns the table lacks, naming them and the option; so does a write with such a field", async () => {
    await fixture.sql("CREATE TABLE narrow_fail (id bigint PRIMARY KEY, note text)");
    const target = sink({ table: "narrow_fail", key: "id" });
    await assert.rejects(target.begin?.({ schema: { key: ["id"], columns: [EVERY_TYPE.columns[0], EVERY_TYPE.columns[8], EVERY_TYPE.columns[4], EVERY_TYPE.columns[11]] } as RecordSchema }, signal) as Promise<void>, (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "config");
      assert.match(error.message, /columns the table lacks \(amount, doc\)/);
      assert.match(error.message, /on_schema_change: evolve/);
      return true;
    });
    await target.begin?.({}, signal);
    const outcome = await target.write(messages([{ id: 1, note: "a" }, { id: 2, note: "b", extra: 1 }]), signal);
    assert.deepEqual(outcome.failures.map((failure) => [failure.index, errorKind(failure.error)]), [[0, "config"], [1, "config"]], "the whole batch fails as config, which stops the run");
    assert.match(String((outcome.failures[0]?.error as Error).message), /\(extra\)/);
    assert.deepEqual(await columnTypes("narrow_fail"), ["id bigint not null", "note text"]);
    assert.equal((await fixture.sql("SELECT count(*)::int AS n FROM narrow_fail"))[0]?.n, 0);
  });

  test("evolve: declared columns are added with their declared types, an undeclared field with a type from its values; each once, logged", async () => {
    await fixture.sql("CREATE TABLE grows (id bigint PRIMARY KEY, note text)");
    const { logger, lines } = capturingLogger();
    const target = sink({ table: "grows", key: "id", on_schema_change: "evolve" }, logger);
    const schema: RecordSchema = { key: ["id"], columns: [EVERY_TYPE.columns[0], EVERY_TYPE.columns[8], EVERY_TYPE.columns[4], EVERY_TYPE.columns[16]] } as RecordSchema;
    await target.begin?.({ schema }, signal);
    assert.deepEqual(await columnTypes("grows"), ["id bigint not null", "note text", "amount numeric(12,2)", "instant timestamp(2) with time zone"]);
    const payload = (id: number, extra: Record<string, unknown>) => ({ id, note: "n", amount: "1.50", instant: "2024-01-01T00:00:00.25Z", ...extra });
    assert.deepEqual(await target.write(messages([payload(1, { score: null }), payload(2, { score: 2.5, tags: ["a"] })]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([payload(3, { score: 1, tags: ["b"] })]), signal), { failures: [] });
    assert.deepEqual((await columnTypes("grows")).slice(4), ["score double precision", "tags jsonb"]);
    const rows = await fixture.sql("SELECT id::int, amount::text, score, tags FROM grows ORDER BY id");
    assert.deepEqual(rows, [
      { id: 1, amount: "1.50", score: null, tags: null },
      { id: 2, amount: "1.50", score: 2.5, tags: ["a"] },
      { id: 3, amount: "1.50", score: 1, tags: ["b"] },
    ]);
    const added = lines.filter((line) => line.level === LEVEL.info && /added column/.test(line.msg)).map((line) => line.column);
    assert.deepEqual(added, ["amount", "instant", "score", "tags"]);
  });

  test("freeze: the table never changes; missing fields are dropped with one warning per column per run", async () => {
    await fixture.sql("CREATE TABLE frozen (id bigint PRIMARY KEY, note text)");
    const { logger, lines } = capturingLogger();
    const target = sink({ table: "frozen", key: "id", on_schema_change: "freeze" }, logger);
    const warnings = (): unknown[] => lines.filter((line: LogLine) => line.level === LEVEL.warn).map((line) => line.column);
    await target.begin?.({ schema: { key: ["id"], columns: [EVERY_TYPE.columns[0], EVERY_TYPE.columns[8], EVERY_TYPE.columns[4]] } as RecordSchema }, signal);
    assert.deepEqual(warnings(), ["amount"]);
    assert.deepEqual(await target.write(messages([{ id: 1, note: "a", amount: "1", other: true }, { id: 2, note: "b", amount: "2" }]), signal), { failures: [] });
    assert.deepEqual(await target.write(messages([{ id: 3, note: "c", amount: "3", other: false }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other"], "one warning per column per run");
    await target.begin?.({}, signal);
    assert.deepEqual(await target.write(messages([{ id: 4, note: "d", other: 1 }]), signal), { failures: [] });
    assert.deepEqual(warnings(), ["amount", "other", "other"], "a new run warns again");
    assert.deepEqual(await columnTypes("frozen"), ["id bigint not null", "note text"]);
    assert.deepEqual(await fixture.sql("SELECT id::int, note FROM frozen ORDER BY id"), [
      { id: 1, note: "a" },
      { id: 2, note: "b" },
      { id: 3, note: "c" },
      { id: 4, note: "d" },
    ]);
  });

  test("a run whose source has a column the target lacks stops with a config error and dead-letters nothing; evolve lets it through", { timeout: 60_000 }, async () => {
    await fixture.sql("CREATE TABLE src_wide (id bigint PRIMARY KEY, note text, added_later numeric(8,3))");
    await fixture.sql("INSERT INTO src_wide SELECT i, 'n' || i, i / 8.0 FROM generate_series(1, 20) AS i");
    await fixture.sql("CREATE TABLE dst_narrow (id bigint PRIMARY KEY, note text)");
    const dir = tempDir();
    try {
      const runOnce = async (policy: string) => {
        const yaml = `version: 1
state: sqlite:./state-${policy}.db
admin: false
connections:
  pg: { type: postgres, url: "${postgresTestUrl()}", schema: ${fixture.schema} }
integrations:
  widen:
    source: { connection: pg, table: src_wide, key: id }
    target: { connection: pg, table: dst_narrow, key: id${policy === "default" ? "" : `, on_schema_change: ${policy}`} }
`;
        const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
        const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
        try {
          const result = await runtime.run({ once: true });
          const deadLetters = await runtime.state.listDeadLetters({ integration: "widen" });
          return { result, deadLetters: deadLetters.length };
        } finally {
          await runtime.close();
        }
      };
      const failed = await runOnce("default");
      assert.equal(failed.result.ok, false);
      assert.equal(failed.result.summaries[0]?.status, "failed");
      assert.match(failed.result.summaries[0]?.error ?? "", /added_later.*on_schema_change/);
      assert.equal(failed.deadLetters, 0);
      assert.equal((await fixture.sql("SELECT count(*)::int AS n FROM dst_narrow"))[0]?.n, 0);

      const evolved = await runOnce("evolve");
      assert.ok(evolved.result.ok, evolved.result.errors.join("; "));
      assert.deepEqual(await fixture.sql("SELECT count(*)::int AS n, sum(added_later)::text AS total FROM dst_narrow"), [{ n: 20, total: "26.250" }]);
      assert.deepEqual(await columnTypes("dst_narrow"), ["id bigint not null", "note text", "added_later numeric(8,3)"]);
    } finally {
      dir.remove();
    }
  });
});
