// @needs-service postgres
// The postgres source reads its pages with COPY (SELECT …) TO STDOUT and decodes the text
// itself. These tests hold it to node-postgres: the payloads must be the ones a plain
// SELECT through a pool with the same type parsers gives, value for value.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { junctionTypes } from "../../../src/connectors/postgres/value-parsers.js";
import { JunctionError } from "../../../src/core/errors.js";
import type { Batch } from "../../../src/connectors/types.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { drain } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

type Row = Record<string, unknown>;

const TRICKY_TEXT = ["plain", "", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "\\.", "quote \" and ' apostrophe", "émoji 😀 世界", "\\x41", "\b\f\v", "a\tb\nc\\d'e"];

describe("postgres source pages read with COPY", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("copyread");
  let reference: pg.Pool;
  before(async () => {
    await fixture.setUp();
    // node-postgres as the connector configures it: Junction's parsers, UTC, ISO dates, hex bytea.
    reference = new pg.Pool({
      connectionString: postgresTestUrl(),
      max: 1,
      types: junctionTypes,
      options: `-c search_path=${fixture.schema} -c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex`,
    });
  });
  after(async () => {
    await reference.end();
    await fixture.tearDown();
  });

  test("payloads equal node-postgres' rows for every kind of value, NULLs and escapes included", async () => {
    await fixture.sql(`CREATE TABLE kinds (
      id int PRIMARY KEY, label text, vc varchar(40), ch char(3), amount numeric(30,10), big bigint, small smallint, ratio double precision,
      real_n real, flag boolean, at timestamptz, local_at timestamp, day date, clock time, span interval, doc jsonb, plain_json json,
      raw bytea, uid uuid, addr inet, tags text[], nums bigint[], stamps timestamptz[], nested int[][], pair point)`);
    await fixture.sql(
      `INSERT INTO kinds
       SELECT g, t.v, left(t.v, 40), 'x' || (g % 10), g * 1.25 - 100, (2^62)::bigint + g, (g % 300)::smallint, g / 7.0, 'NaN'::real,
              g % 2 = 0, timestamptz '2024-05-01 10:00:00.123456+05:30' + g * interval '1 hour', timestamp '1999-12-31 23:59:59.5' + g * interval '1 day',
              date '2024-02-29' + g::int, time '12:34:56.789', g * interval '1 day 2 hours', jsonb_build_object('v', t.v, 'n', g, 'a', jsonb_build_array(1, 'x', null)),
              json_build_object('k', t.v), decode(md5(t.v), 'hex'), md5(g::text)::uuid, '10.0.0.1'::inet, ARRAY[t.v, NULL, 'b'], ARRAY[g, 9223372036854775807],
              ARRAY[timestamptz '2024-01-01 00:00:00+00', NULL], ARRAY[[1, 2], [3, g]], point(g, -g)
       FROM unnest($1::text[]) WITH ORDINALITY AS t(v, g)`,
      [TRICKY_TEXT],
    );
    await fixture.sql("INSERT INTO kinds (id) VALUES (100)"); // every other column NULL
    await fixture.sql("INSERT INTO kinds (id, at, local_at, day, ratio) VALUES (101, 'infinity', '-infinity', '0044-03-15 BC', 'Infinity')");
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "kinds", key: "id", batch_size: 4 }));
    const payloads = batches.flatMap((batch) => batch.messages.map((message) => message.payload as Row));
    const expected = (await reference.query("SELECT * FROM kinds ORDER BY id")).rows;
    assert.equal(payloads.length, expected.length);
    assert.deepEqual(payloads, expected);
  });

  test("a text key with tabs, newlines, backslashes and quotes pages exactly once, positions round trip as literals", async () => {
    await fixture.sql("CREATE TABLE texty (k text PRIMARY KEY, n int)");
    const keys = [...TRICKY_TEXT, ...Array.from({ length: 1200 }, (_, index) => `k\t${index}\\'\n`)];
    await fixture.sql("INSERT INTO texty SELECT k, row_number() OVER () FROM unnest($1::text[]) AS k", [keys]);
    const connection = await fixture.connect();
    const batches = await drain(fixture.source(connection, { table: "texty", key: "k", batch_size: 7 }));
    const read = batches.flatMap((batch) => batch.messages.map((message) => message.key));
    const expected = (await reference.query<{ k: string }>("SELECT k FROM texty ORDER BY k")).rows.map((row) => row.k);
    assert.deepEqual(read, expected);
  });

  test("a column added between pages shows up in the rows read after it, and the connection stays usable", async () => {
    await fixture.sql("CREATE TABLE growing (id int PRIMARY KEY, name text)");
    // Rows of 1 kB: a page arrives in many socket reads, so the change is noticed mid-COPY.
    await fixture.sql("INSERT INTO growing SELECT g, repeat('n', 1000) || g FROM generate_series(1, 1500) AS g");
    const connection = await fixture.connect();
    const iterator = fixture.source(connection, { table: "growing", key: "id", batch_size: 500 }).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as Batch;
    await first.ack();
    // The second page is read ahead by now; the third is read when the second is handed out.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await fixture.sql("ALTER TABLE growing ADD COLUMN extra int DEFAULT 7");
    const rest: Batch[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      rest.push(next.value);
      await next.value.ack();
    }
    const rows = [first, ...rest].flatMap((batch) => batch.messages.map((message) => message.payload as Row));
    assert.deepEqual(
      rows.map((row) => row.id),
      Array.from({ length: 1500 }, (_, index) => index + 1),
    );
    const last = rows.at(-1) as Row;
    assert.equal(last.extra, 7);
    assert.equal("extra" in (rows[0] as Row), false);
    // The same pool reads on: no connection was left inside an unfinished COPY.
    const again = await drain(fixture.source(connection, { table: "growing", key: "id", batch_size: 500 }));
    assert.equal(again.flatMap((batch) => batch.messages).length, 1500);
  });

  test("the server ending the connection in the middle of a page fails the read as transient, and nothing is left uncaught", async () => {
    await fixture.sql("CREATE TABLE severed (id int PRIMARY KEY, name text)");
    await fixture.sql("INSERT INTO severed SELECT g, repeat('s', 500) FROM generate_series(1, 5000) AS g");
    const application = `junction_severed_${process.pid}`;
    const connection = await fixture.connect({ application_name: application });
    // pg_sleep per row keeps every page's COPY running for a while, so the terminations land inside one.
    const slow = { table: "severed", key: "id", batch_size: 500, where: "pg_sleep(0.0005) IS NOT NULL" };
    const killer = setInterval(() => {
      fixture.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", [application]).catch(() => undefined);
    }, 20);
    const isTransient = (error: unknown): boolean => error instanceof JunctionError && error.kind === "transient";
    try {
      await assert.rejects(drain(fixture.source(connection, slow)), (error: unknown) => {
        assert.ok(isTransient(error), String(error));
        return true;
      });
      // Fast reads: the terminations also land between queries of a checked-out connection.
      for (let round = 0; round < 3; round++) {
        const outcome = await drain(fixture.source(connection, { table: "severed", key: "id", batch_size: 500 })).then(
          (batches) => batches.flatMap((batch) => batch.messages).length,
          (error: unknown) => error,
        );
        assert.ok(outcome === 5000 || isTransient(outcome), String(outcome));
      }
    } finally {
      clearInterval(killer);
    }
    // Give late connection events the time to surface: an uncaught one would fail this file.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await drain(fixture.source(connection, { table: "severed", key: "id", batch_size: 5000 }))).flatMap((batch) => batch.messages).length, 5000);
  });

  test("a nacked batch is read again from its start, the rows read ahead after it are dropped", async () => {
    await fixture.sql("CREATE TABLE rewind (id int PRIMARY KEY)");
    await fixture.sql("INSERT INTO rewind SELECT generate_series(1, 2000)");
    const connection = await fixture.connect();
    const iterator = fixture.source(connection, { table: "rewind", key: "id", batch_size: 300 }).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const ids = (batch: Batch): number[] => batch.messages.map((message) => (message.payload as Row).id as number);
    const one = (await iterator.next()).value as Batch;
    const two = (await iterator.next()).value as Batch;
    const three = (await iterator.next()).value as Batch;
    await one.ack();
    await two.nack(new Error("write failed"), true);
    await three.ack(); // voided by the nack before it: must not move the source past batch two
    const again = (await iterator.next()).value as Batch;
    assert.deepEqual(ids(again), ids(two));
    const after = (await iterator.next()).value as Batch;
    assert.deepEqual(ids(after), ids(three));
    await iterator.return?.();
  });
});
