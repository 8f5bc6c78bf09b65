// @needs-service postgres
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test } from "node:test";
import pg from "pg";
import { openStateStore } from "../../src/state/open.js";
import { POSTGRES_MIGRATIONS } from "../../src/state/postgres/migrations/index.js";
import { POSTGRES_DATABASE_IDENTITY_SQL } from "../../src/state/postgres/database-identity.js";
import { PostgresStateStore } from "../../src/state/postgres/postgres-state-store.js";
import { postgresTestUrl, serviceSkipReason } from "../support/services.js";
import { runStateStoreContract } from "./contract.js";

const skip = await serviceSkipReason("postgres");
const schema = `junction_test_${randomBytes(6).toString("hex")}`;
const freshSchemas: string[] = [];

function freshSchema(): string {
  const name = `${schema}_${freshSchemas.length}`;
  freshSchemas.push(name);
  return name;
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresTestUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

if (skip === false) {
  after(async () => {
    await withAdmin(async (client) => {
      for (const name of [schema, ...freshSchemas]) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
    });
  });
}

runStateStoreContract("postgres", async () => new PostgresStateStore({ connectionString: postgresTestUrl(), schema, location: "postgres-test" }), { skip });

describe("PostgresStateStore", { skip }, () => {
  test("creates its schema with junction_ tables and records migration 1", async () => {
    const name = freshSchema();
    const store = new PostgresStateStore({ connectionString: postgresTestUrl(), schema: name });
    try {
      assert.deepEqual(await store.appliedMigrations(), []);
      await store.migrate();
      assert.deepEqual(await store.appliedMigrations(), POSTGRES_MIGRATIONS.map((migration) => migration.version));
    } finally {
      await store.close();
    }
    const tables = await withAdmin(async (client) => {
      const result = await client.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", [name]);
      return result.rows.map((row) => row.table_name);
    });
    assert.deepEqual(tables, [
      "junction_checkpoints",
      "junction_dead_letters",
      "junction_decisions",
      "junction_idempotency_keys",
      "junction_leases",
      "junction_migrations",
      "junction_runs",
      "junction_webhook_deliveries",
      "junction_webhook_delivery_attempts",
      "junction_webhook_endpoints",
      "junction_webhook_inbox",
    ]);
  });

  test("several instances migrating a new schema at once apply each migration once", async () => {
    const name = freshSchema();
    const stores = Array.from({ length: 5 }, () => new PostgresStateStore({ connectionString: postgresTestUrl(), schema: name }));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      for (const store of stores) assert.deepEqual(await store.appliedMigrations(), POSTGRES_MIGRATIONS.map((migration) => migration.version));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
    const count = await withAdmin(async (client) => {
      const result = await client.query<{ count: string }>(`SELECT count(*) AS count FROM "${name}".junction_migrations`);
      return Number(result.rows[0]?.count);
    });
    assert.equal(count, POSTGRES_MIGRATIONS.length);
  });

  test("openStateStore takes ?schema=, migrates, and hides the password in location", async () => {
    const name = freshSchema();
    const url = new URL(postgresTestUrl());
    url.searchParams.set("schema", name);
    const store = await openStateStore(url.toString());
    try {
      assert.equal(store.kind, "postgres");
      assert.deepEqual(await store.appliedMigrations(), POSTGRES_MIGRATIONS.map((migration) => migration.version));
      await store.setCheckpoint("via-url", { ok: true });
      assert.deepEqual((await store.getCheckpoint("via-url"))?.value, { ok: true });
    } finally {
      await store.close();
    }
    const stored = await withAdmin(async (client) => {
      const result = await client.query<{ value: unknown }>(`SELECT value FROM "${name}".junction_checkpoints WHERE scope = 'via-url'`);
      return result.rows[0]?.value;
    });
    assert.deepEqual(stored, { ok: true });
  });

  test("a wrong password is reported as an auth or config problem without leaking it", async (t) => {
    const url = new URL(postgresTestUrl());
    url.username = `junction_no_such_user_${randomBytes(3).toString("hex")}`;
    url.password = "s3cret-Pa55";
    const error = await openStateStore(url.toString()).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (error === undefined) {
      t.skip("the server accepted an unknown user (trust authentication for every role)");
      return;
    }
    assert.ok(error instanceof Error);
    assert.doesNotMatch(error.message, /s3cret-Pa55/);
    assert.match(error.message, /cannot prepare the state store/);
  });
});

describe("PostgreSQL state store: checkpoints committed by a target in the same database", { skip }, () => {
  test("the identity names the cluster and database whatever the address; the upsert commits or rolls back with the caller's transaction", async () => {
    const store = new PostgresStateStore({ connectionString: postgresTestUrl(), schema: freshSchema() });
    try {
      await store.migrate();
      const identity = await store.sharedCheckpoints.databaseIdentity();
      assert.match(identity ?? "", /^postgres:\d+\/test$/);
      await withAdmin(async (client) => {
        const same = await client.query<{ identity: string }>(POSTGRES_DATABASE_IDENTITY_SQL);
        assert.equal(same.rows[0]?.identity, identity);
        const statement = store.sharedCheckpoints.checkpointStatement("orders", { lsn: "0/16B3748" });
        await client.query("BEGIN");
        await client.query(statement.sql, statement.params);
        await client.query("ROLLBACK");
        assert.equal(await store.getCheckpoint("orders"), undefined);
        await client.query("BEGIN");
        await client.query(statement.sql, statement.params);
        await client.query("COMMIT");
      });
      assert.deepEqual((await store.getCheckpoint("orders"))?.value, { lsn: "0/16B3748" });
    } finally {
      await store.close();
    }
  });
});
