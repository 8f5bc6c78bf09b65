// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { PostgresDatabase } from "../../../src/connectors/postgres/database.js";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import { createLogger } from "../../../src/observability/logger.js";
import { postgresTestUrl } from "../../support/services.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { freePort } from "../../support/free-port.js";
import { drain, runtimeContext } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

describe("postgres connection", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("conn");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  test("a checked-out client whose server connection is killed between statements does not crash the process", async () => {
    const database = new PostgresDatabase("killed", { url: postgresTestUrl() }, process.cwd(), createLogger({ level: "silent" }));
    const uncaught: Error[] = [];
    const onUncaught = (error: Error): void => {
      uncaught.push(error);
    };
    process.on("uncaughtException", onUncaught);
    try {
      const client = await database.client();
      const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
      await fixture.sql("SELECT pg_terminate_backend($1)", [pid]);
      // The server's notice of termination arrives while no query runs on the client.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await assert.rejects(client.query("SELECT 1"));
      client.release(new Error("connection lost"));
      assert.deepEqual(uncaught, []);
      assert.equal((await database.query<{ one: number }>("SELECT 1 AS one")).rows[0]?.one, 1);
    } finally {
      process.off("uncaughtException", onUncaught);
      await database.close();
    }
  });

  test("health runs select 1 and reports its latency", async () => {
    const connection = await fixture.connect();
    const health = await connection.health(new AbortController().signal);
    assert.equal(health.status, "healthy");
    assert.ok(health.latencyMs >= 0);
  });

  test("an unreachable server is unhealthy with the reason, never the password", async () => {
    const port = await freePort();
    const password = "hunter2-secret";
    for (const config of [{ url: `postgres://postgres:${password}@127.0.0.1:${port}/test` }, { host: "127.0.0.1", port, user: "postgres", password, database: "test" }]) {
      const connection = await postgresConnector.connect(config, runtimeContext(process.cwd()));
      try {
        const health = await connection.health(new AbortController().signal);
        assert.equal(health.status, "unhealthy");
        assert.match(health.detail ?? "", /ECONNREFUSED/);
        assert.doesNotMatch(health.detail ?? "", /hunter2/);
      } finally {
        await connection.close();
      }
    }
  });

  test("a table or column name that is not a plain identifier is rejected before any SQL runs", async () => {
    const connection = await fixture.connect();
    const injection = 'users"; DROP TABLE users; --';
    assert.throws(() => fixture.source(connection, { table: injection, key: "id" }), (error: unknown) => error instanceof JunctionError && error.kind === "config");
    assert.throws(() => fixture.source(connection, { table: "users", key: "id; drop table x" }), (error: unknown) => error instanceof JunctionError && error.kind === "config");
    assert.throws(() => fixture.sink(connection, { table: injection }), (error: unknown) => error instanceof JunctionError && error.kind === "config");
    assert.throws(() => fixture.sink(connection, { table: "t", key: ['id"'] }), (error: unknown) => error instanceof JunctionError && error.kind === "config");
    const issues = postgresConnector.check.source({ table: injection, key: "id", cursor: ["updated_at", "x y"] });
    assert.deepEqual(
      issues.map((issue) => issue.path),
      [["table"], ["cursor", 1]],
    );
    assert.equal(postgresConnector.check.config({ url: "postgres://x", schema: "a-b" }).length, 1);
  });

  test("a missing table is a config error; a source reading it fails before the first batch", async () => {
    const connection = await fixture.connect();
    await assert.rejects(drain(fixture.source(connection, { table: "no_such_table", key: "id" })), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "config");
      assert.match(error.message, /no_such_table/);
      return true;
    });
    await fixture.sql("CREATE TABLE known (id int primary key)");
    await assert.rejects(drain(fixture.source(connection, { table: "known", key: "nope" })), (error: unknown) => error instanceof JunctionError && error.kind === "config");
  });

  test("checks: url or host, upsert needs key, incremental needs cursor", () => {
    assert.equal(postgresConnector.check.config({}).length, 1);
    assert.equal(postgresConnector.check.config({ url: "postgres://x", host: "h" }).length, 1);
    assert.equal(postgresConnector.check.sink({ table: "t", mode: "upsert" }).length, 1);
    assert.equal(postgresConnector.check.source({ table: "t", key: "id", mode: "incremental" }).length, 1);
    assert.equal(postgresConnector.check.source({ table: "t", query: "select 1", key: "id" }).length, 1);
  });
});
