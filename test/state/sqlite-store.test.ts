import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import type { SqliteConnection } from "../../src/state/sqlite/sqlite-driver.js";
import { SQLITE_MIGRATIONS } from "../../src/state/sqlite/migrations/index.js";
import { SqliteStateStore } from "../../src/state/sqlite/sqlite-state-store.js";
import { runStateStoreContract } from "./contract.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "junction-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStateStoreContract("sqlite (file)", async () => new SqliteStateStore(join(dir, "contract", "state.db")));

describe("SqliteStateStore", () => {
  test("creates the parent directory and the tables with the junction_ prefix", async () => {
    const file = join(dir, "nested", "deeper", "state.db");
    const store = new SqliteStateStore(file);
    try {
      await store.migrate();
      assert.ok(existsSync(file));
      assert.deepEqual(await store.appliedMigrations(), SQLITE_MIGRATIONS.map((migration) => migration.version));
      assert.equal(store.location, `sqlite:${file}`);
    } finally {
      await store.close();
    }
    const db = openSqlite(file, { readonly: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
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
      const migration = db.prepare("SELECT version, name, applied_at FROM junction_migrations ORDER BY version").get() as { version: number; name: string; applied_at: number };
      assert.equal(migration.version, 1);
      assert.equal(migration.name, "initial schema");
      assert.equal(typeof migration.applied_at, "number");
    } finally {
      db.close();
    }
  });

  test("uses WAL, NORMAL synchronous, a 5 s busy timeout and foreign keys", async () => {
    const file = join(dir, "pragmas.db");
    const store = new SqliteStateStore(file);
    await store.close();
    const db = openSqlite(file);
    try {
      assert.equal(db.pragmaValue("journal_mode"), "wal", "WAL is persistent in the file");
    } finally {
      db.close();
    }
    // The per-connection settings, read through the store's own connection.
    const inspected = new SqliteStateStore(file);
    const connection = (inspected as unknown as { db: SqliteConnection }).db;
    try {
      assert.equal(connection.pragmaValue("synchronous"), 1);
      assert.equal(connection.pragmaValue("busy_timeout"), 5000);
      assert.equal(connection.pragmaValue("foreign_keys"), 1);
    } finally {
      await inspected.close();
    }
  });

  test("appliedMigrations is empty before migrate and close is idempotent", async () => {
    const store = new SqliteStateStore(join(dir, "fresh.db"));
    assert.deepEqual(await store.appliedMigrations(), []);
    await store.close();
    await store.close();
  });

  test("an in-memory store works end to end", async () => {
    const store = new SqliteStateStore(":memory:");
    try {
      await store.migrate();
      assert.deepEqual(await store.appliedMigrations(), SQLITE_MIGRATIONS.map((migration) => migration.version));
      await store.setCheckpoint("mem", { ok: true });
      assert.deepEqual((await store.getCheckpoint("mem"))?.value, { ok: true });
      assert.equal(await store.claimIdempotencyKey("s", "k", 60_000), true);
      assert.equal(await store.claimIdempotencyKey("s", "k", 60_000), false);
      const run = await store.startRun({ integration: "mem", trigger: "manual" });
      await store.updateRun(run.id, { read: 2 });
      assert.equal((await store.getRun(run.id))?.counts.read, 2);
    } finally {
      await store.close();
    }
  });
});

describe("SQLite state store: checkpoints committed by a target in the same file", () => {
  test("identifies the file by its real path and gives an upsert another connection can run in its transaction", async () => {
    const filename = join(dir, "shared.db");
    const store = new SqliteStateStore(filename);
    await store.migrate();
    const shared = store.sharedCheckpoints;
    assert.ok(shared);
    assert.equal(await shared.databaseIdentity(), `sqlite:${await realpath(filename)}`);
    const target = openSqlite(join(dir, ".", "shared.db"), { busyTimeoutMs: 5000 });
    try {
      target.exec("BEGIN IMMEDIATE");
      const statement = shared.checkpointStatement("users", { values: ["2026-01-01", "7"] });
      target.prepare(statement.sql).run(...(statement.params as Array<string | number>));
      target.exec("ROLLBACK");
      assert.equal(await store.getCheckpoint("users"), undefined, "rolled back with the target's transaction");
      target.exec("BEGIN IMMEDIATE");
      target.prepare(statement.sql).run(...(statement.params as Array<string | number>));
      target.exec("COMMIT");
      assert.deepEqual((await store.getCheckpoint("users"))?.value, { values: ["2026-01-01", "7"] });
    } finally {
      target.close();
      await store.close();
    }
  });

  test("an in-memory store has none", async () => {
    const store = new SqliteStateStore(":memory:");
    assert.equal(store.sharedCheckpoints, undefined);
    await store.close();
  });
});
