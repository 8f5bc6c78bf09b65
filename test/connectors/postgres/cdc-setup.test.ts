// @needs-service postgres
// What a CDC source refuses to start with: a slot that disagrees with the checkpoint
// (dropped, consumed by someone else, invalidated), wal_level below logical, a table
// whose deletes would not carry the key, a reused publication without the table. These
// tests change server settings (max_slot_wal_keep_size), so they run on a private cluster.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import type { PostgresSourceOptions } from "../../../src/connectors/postgres/schema.js";
import type { Source, SourceContext } from "../../../src/connectors/types.js";
import { JunctionError } from "../../../src/core/errors.js";
import { privatePostgresSkipReason, startPrivatePostgres } from "../../support/private-postgres.js";
import { drain, runtimeContext, sourceContext } from "../connector-context.js";
import { CdcFixture } from "./cdc-fixture.js";

async function readAll(source: Source): Promise<number> {
  try {
    return (await drain(source)).reduce((count, batch) => count + batch.messages.length, 0);
  } finally {
    await source.close?.();
  }
}

/** Asserts that reading `source` fails with a config error whose code is `code` and whose message matches every pattern. */
async function assertRefused(source: Source, code: string, patterns: RegExp[]): Promise<void> {
  try {
    await assert.rejects(drain(source), (error: unknown) => {
      assert.ok(error instanceof JunctionError, String(error));
      assert.equal(error.kind, "config", error.message);
      assert.equal(error.code, code, error.message);
      for (const pattern of patterns) assert.match(error.message, pattern);
      return true;
    });
  } finally {
    await source.close?.();
  }
}

describe("postgres cdc source: refusing to start", { skip: privatePostgresSkipReason() }, () => {
  const fixture = new CdcFixture("cdcsetup", { privateCluster: true });
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  /** A table with its own slot and publication, a first run (creates them) and one acked change, so a checkpoint exists. */
  async function streamedTable(table: string): Promise<{ options: PostgresSourceOptions; ctx: SourceContext & { checkpoints: { value: unknown } }; slot: string }> {
    await fixture.sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    const connection = await fixture.connect();
    const options: PostgresSourceOptions = { table, key: "id", mode: "cdc", ...fixture.names() };
    const ctx = sourceContext();
    await readAll(fixture.source(connection, options, ctx));
    await fixture.sql(`INSERT INTO ${table} VALUES (1)`);
    assert.equal(await readAll(fixture.source(connection, options, ctx)), 1);
    assert.ok(ctx.checkpoints.value !== undefined);
    const slot = options.slot as string;
    await fixture.waitFor("the slot to be released", async () => ((await fixture.slot(slot))?.active === false ? true : undefined));
    return { options, ctx, slot };
  }

  test("(a) a checkpoint without its slot (dropped, or a new database) is a config error naming the slot and what to do", async () => {
    const { options, ctx, slot } = await streamedTable("dropped");
    await fixture.sql("SELECT pg_drop_replication_slot($1)", [slot]);
    await fixture.sql("INSERT INTO dropped VALUES (2)");
    await assertRefused(fixture.source(await fixture.connect(), options, ctx), "config.postgres_slot_missing", [
      new RegExp(`slot ${slot} does not exist`),
      /checkpoint at LSN [0-9A-F]+\/[0-9A-F]+/,
      /resync the target/,
      /junction checkpoints reset \S+ --yes/,
    ]);
    assert.equal(await fixture.slot(slot), undefined, "no slot is created silently");
  });

  test("(b) a slot whose confirmed position is ahead of the checkpoint (consumed by someone else) is an error", async () => {
    const { options, ctx, slot } = await streamedTable("consumed");
    await fixture.sql("INSERT INTO consumed VALUES (2)");
    await fixture.sql("SELECT pg_replication_slot_advance($1, pg_current_wal_flush_lsn())", [slot]);
    const stored = (ctx.checkpoints.value as { lsn: string }).lsn;
    assert.equal((await fixture.sql("SELECT confirmed_flush_lsn > $2::pg_lsn AS ahead FROM pg_replication_slots WHERE slot_name = $1", [slot, stored]))[0]?.ahead, true);
    await assertRefused(fixture.source(await fixture.connect(), options, ctx), "config.postgres_slot_ahead", [
      new RegExp(`slot ${slot} has confirmed LSN [0-9A-F]+/[0-9A-F]+, ahead of this integration's checkpoint`),
      /something else consumed the slot/,
    ]);
  });

  test("(c) an invalidated slot (wal_status lost) is an error", async () => {
    const { options, ctx, slot } = await streamedTable("invalidated");
    await fixture.sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
    await fixture.sql("SELECT pg_reload_conf()");
    try {
      await fixture.waitFor("the slot to lose its WAL", async () => {
        await fixture.sql("INSERT INTO invalidated SELECT coalesce(max(id), 0) + 1 FROM invalidated");
        await fixture.sql("SELECT pg_switch_wal()");
        await fixture.sql("CHECKPOINT");
        return (await fixture.slot(slot))?.wal_status === "lost" ? true : undefined;
      });
    } finally {
      await fixture.sql("ALTER SYSTEM RESET max_slot_wal_keep_size");
      await fixture.sql("SELECT pg_reload_conf()");
    }
    await assertRefused(fixture.source(await fixture.connect(), options, ctx), "config.postgres_slot_invalidated", [
      new RegExp(`slot ${slot} was invalidated`),
      new RegExp(`pg_drop_replication_slot\\('${slot}'\\)`),
    ]);
  });

  test("a table without a replica identity, a key the deletes would not carry, or a reused publication without the table is a config error", async () => {
    await fixture.sql("CREATE TABLE no_key (id int, name text)");
    await fixture.sql("CREATE TABLE other_key (id int PRIMARY KEY, code text UNIQUE)");
    await fixture.sql("CREATE TABLE unpublished (id int PRIMARY KEY)");
    const connection = await fixture.connect();
    await assertRefused(fixture.source(connection, { table: "no_key", key: "id", mode: "cdc", ...fixture.names() }), "config.postgres_replica_identity", [
      /has no replica identity/,
      /REPLICA IDENTITY FULL/,
    ]);
    await assertRefused(fixture.source(connection, { table: "other_key", key: "code", mode: "cdc", ...fixture.names() }), "config.postgres_replica_identity", [
      /deletes carry only the replica identity columns \(id\), not key column code/,
    ]);
    const names = fixture.names();
    await fixture.sql(`CREATE PUBLICATION "${names.publication}" FOR TABLE other_key`);
    await assertRefused(fixture.source(connection, { table: "unpublished", key: "id", mode: "cdc", ...names }), "config.postgres_publication", [
      new RegExp(`publication ${names.publication} exists but does not publish table ${fixture.schema}\\.unpublished`),
      /ALTER PUBLICATION/,
    ]);
    // With REPLICA IDENTITY FULL any key works.
    await fixture.sql("ALTER TABLE other_key REPLICA IDENTITY FULL");
    assert.equal(await readAll(fixture.source(connection, { table: "other_key", key: "code", mode: "cdc", ...fixture.names() })), 0);
  });

  test("wal_level below logical is a config error that says how to set it", async () => {
    // A fresh cluster runs with the default wal_level = replica.
    const server = await startPrivatePostgres({ databases: ["plain"] });
    try {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE TABLE t (id int PRIMARY KEY)");
      await admin.end();
      const connection = await postgresConnector.connect({ url: server.url }, runtimeContext(process.cwd()));
      try {
        const source = (connection.source as NonNullable<typeof connection.source>)({ table: "t", key: "id", mode: "cdc" }, sourceContext());
        await assertRefused(source, "config.postgres_wal_level", [/wal_level = replica/, /ALTER SYSTEM SET wal_level = logical/, /restart/]);
      } finally {
        await connection.close();
      }
    } finally {
      await server.destroy();
    }
  });
});
