// @needs-service postgres
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { PostgresConnection } from "./postgres-fixture.js";
import { PostgresFixture } from "./postgres-fixture.js";
import type { Sink } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { PostgresStateStore } from "../../../src/state/postgres/postgres-state-store.js";
import { postgresTestUrl, serviceSkipReason } from "../../support/services.js";
import { silentLogger } from "../connector-context.js";

const skip = await serviceSkipReason("postgres");
const fixture = new PostgresFixture("ckpt");
const signal = new AbortController().signal;

function rows(payloads: unknown[]): Message[] {
  return payloads.map((payload, i) => createMessage({ id: `m${i}`, payload }));
}

describe("postgres target in the state store's database: the checkpoint commits with the rows", { skip }, () => {
  let state: PostgresStateStore;
  let connection: PostgresConnection;

  before(async () => {
    await fixture.setUp();
    await fixture.sql(`CREATE TABLE "${fixture.schema}".users (id bigint PRIMARY KEY, name text NOT NULL)`);
    state = new PostgresStateStore({ connectionString: postgresTestUrl(), schema: `${fixture.schema}_state` });
    await state.migrate();
    connection = await fixture.connect();
  });
  after(async () => {
    await state.close();
    await fixture.sql(`DROP SCHEMA IF EXISTS "${fixture.schema}_state" CASCADE`);
    await fixture.tearDown();
  });

  function sink(sharedCheckpoints = state.sharedCheckpoints): Sink {
    return (connection.sink as NonNullable<PostgresConnection["sink"]>)({ table: "users", key: "id" }, { integration: "users", logger: silentLogger, sharedCheckpoints });
  }

  test("a fully written batch commits the offered checkpoint; a batch with a failed row does not", async () => {
    const target = sink();
    const ok = await target.write(rows([{ id: 1, name: "a" }, { id: 2, name: "b" }]), signal, { checkpoint: { scope: "users", value: { values: ["2"] } } });
    assert.deepEqual(ok, { failures: [], checkpointed: true });
    assert.deepEqual((await state.getCheckpoint("users"))?.value, { values: ["2"] });

    const partial = await target.write(rows([{ id: 3, name: "c" }, { id: 4, name: null }]), signal, { checkpoint: { scope: "users", value: { values: ["4"] } } });
    assert.equal(partial.failures.length, 1);
    assert.equal(partial.checkpointed, undefined);
    assert.deepEqual((await state.getCheckpoint("users"))?.value, { values: ["2"] });
    assert.deepEqual(await fixture.sql(`SELECT id::int FROM "${fixture.schema}".users ORDER BY id`), [{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  test("a state store in another database is never written by the target", async () => {
    const elsewhere = { databaseIdentity: async () => "postgres:0/another", checkpointStatement: state.sharedCheckpoints.checkpointStatement };
    const outcome = await sink(elsewhere).write(rows([{ id: 5, name: "e" }]), signal, { checkpoint: { scope: "other", value: { values: ["5"] } } });
    assert.deepEqual(outcome, { failures: [] });
    assert.equal(await state.getCheckpoint("other"), undefined);
  });
});
