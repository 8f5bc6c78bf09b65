import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sqliteConnector } from "../../../src/connectors/sqlite/index.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "../../../src/connectors/sqlite/schema.js";
import type { Connection, Sink } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { SqliteStateStore } from "../../../src/state/sqlite/sqlite-state-store.js";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { runtimeContext, silentLogger, tempDir } from "../connector-context.js";

type SqliteConnection = Connection<SqliteSourceOptions, SqliteSinkOptions>;
const signal = new AbortController().signal;

function rows(payloads: unknown[]): Message[] {
  return payloads.map((payload, i) => createMessage({ id: `m${i}`, payload }));
}

describe("sqlite target in the state store's file: the checkpoint commits with the rows", () => {
  let dir: string;
  let remove: () => Promise<void>;
  let state: SqliteStateStore;
  const open: SqliteConnection[] = [];

  before(async () => {
    ({ dir, remove } = await tempDir());
    state = new SqliteStateStore(join(dir, "shared.db"));
    await state.migrate();
    const db = openSqlite(join(dir, "shared.db"));
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    db.close();
    const other = openSqlite(join(dir, "other.db"));
    other.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    other.close();
  });
  after(async () => {
    for (const connection of open) await connection.close();
    await state.close();
    await remove();
  });

  async function sink(file: string): Promise<Sink> {
    const connection = await sqliteConnector.connect({ path: file }, runtimeContext(dir));
    open.push(connection);
    const shared = state.sharedCheckpoints;
    assert.ok(shared);
    return (connection.sink as NonNullable<SqliteConnection["sink"]>)({ table: "users", key: "id" }, { integration: "users", logger: silentLogger, sharedCheckpoints: shared });
  }

  test("a fully written batch commits the offered checkpoint in the same transaction", async () => {
    const target = await sink("shared.db");
    const outcome = await target.write(rows([{ id: 1, name: "a" }, { id: 2, name: "b" }]), signal, { checkpoint: { scope: "users", value: { values: ["2"] } } });
    assert.deepEqual(outcome, { failures: [], checkpointed: true });
    assert.deepEqual((await state.getCheckpoint("users"))?.value, { values: ["2"] });
  });

  test("a batch with a failed row leaves the checkpoint where it was", async () => {
    const target = await sink("shared.db");
    const outcome = await target.write(rows([{ id: 3, name: "c" }, { id: 4, name: null }]), signal, { checkpoint: { scope: "users", value: { values: ["4"] } } });
    assert.equal(outcome.failures.length, 1);
    assert.equal(outcome.checkpointed, undefined);
    assert.deepEqual((await state.getCheckpoint("users"))?.value, { values: ["2"] }, "row 4 will be retried or dead-lettered first");
  });

  test("a target in another file never writes the state store's checkpoint", async () => {
    const target = await sink("other.db");
    const outcome = await target.write(rows([{ id: 5, name: "e" }]), signal, { checkpoint: { scope: "elsewhere", value: { values: ["5"] } } });
    assert.deepEqual(outcome, { failures: [] });
    assert.equal(await state.getCheckpoint("elsewhere"), undefined);
  });

  test("without an offer nothing is checkpointed", async () => {
    const target = await sink("shared.db");
    assert.deepEqual(await target.write(rows([{ id: 6, name: "f" }]), signal), { failures: [] });
    assert.deepEqual((await state.getCheckpoint("users"))?.value, { values: ["2"] });
  });
});
