// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { freePort } from "../../support/free-port.js";
import { drain, runtimeContext } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

describe("postgres connection", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("conn");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

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
