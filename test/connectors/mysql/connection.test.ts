// @needs-service mariadb
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mysqlConnector } from "../../../src/connectors/mysql/index.js";
import { quoteMysqlIdentifier, quoteMysqlTableName } from "../../../src/connectors/shared/mysql-identifier.js";
import { JunctionError } from "../../../src/core/errors.js";
import { mysqlFailure } from "../../../src/connectors/mysql/mysql-errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { sourceContext } from "../connector-context.js";
import { MARIADB_CONFIG, MysqlFixture } from "./mysql-fixture.js";

describe("mysql connection", { skip: await serviceSkipReason("mariadb") }, () => {
  let fixture: MysqlFixture;
  before(() => {
    fixture = new MysqlFixture();
  });
  after(async () => {
    await fixture.cleanup();
  });

  test("health is healthy with a latency against a running server", async () => {
    const connection = await fixture.connect();
    const health = await connection.health(new AbortController().signal);
    assert.equal(health.status, "healthy");
    assert.ok(health.latencyMs >= 0);
    assert.match(health.detail ?? "", /127\.0\.0\.1:3306\/test/);
  });

  test("a closed port is unhealthy with the reason and never the password (fields and url)", async () => {
    const password = "s3cret-Passw0rd";
    for (const config of [
      { ...MARIADB_CONFIG, port: 1, password },
      { url: `mysql://root:${password}@127.0.0.1:1/test` },
    ]) {
      const connection = await fixture.connect(config);
      const health = await connection.health(new AbortController().signal);
      assert.equal(health.status, "unhealthy");
      assert.match(health.detail ?? "", /ECONNREFUSED|connect/);
      assert.ok(!(health.detail ?? "").includes(password));
    }
  });

  test("wrong password is an auth error; a missing table and column are config errors", async () => {
    const denied = await fixture.connect({ ...MARIADB_CONFIG, user: "junction_nobody", password: "wrong-pw-123" });
    const source = fixture.source(denied, { table: "anything", key: "id" });
    await assert.rejects(source.batches(new AbortController().signal)[Symbol.asyncIterator]().next(), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "auth");
      assert.ok(!error.message.includes("wrong-pw-123"));
      return true;
    });

    const connection = await fixture.connect();
    const missing = fixture.source(connection, { table: fixture.table("missing"), key: "id" });
    await assert.rejects(missing.batches(new AbortController().signal)[Symbol.asyncIterator]().next(), { kind: "config", code: "mysql.no_such_table" });

    const table = fixture.table("cols");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY)`);
    const badColumn = fixture.source(connection, { table, key: "id", cursor: "nope" });
    await assert.rejects(badColumn.batches(new AbortController().signal)[Symbol.asyncIterator]().next(), { kind: "config", code: "mysql.unknown_column" });
  });

  test("driver error codes map to kinds", () => {
    const kind = (code: string, errno?: number) => mysqlFailure(Object.assign(new Error(code), { code, errno }), "op").kind;
    assert.equal(kind("ER_LOCK_DEADLOCK", 1213), "transient");
    assert.equal(kind("ER_LOCK_WAIT_TIMEOUT", 1205), "transient");
    assert.equal(kind("ER_CON_COUNT_ERROR", 1040), "transient");
    assert.equal(kind("PROTOCOL_CONNECTION_LOST"), "transient");
    assert.equal(kind("ECONNREFUSED"), "transient");
    assert.equal(kind("ER_DUP_ENTRY", 1062), "permanent");
    assert.equal(kind("ER_BAD_NULL_ERROR", 1048), "permanent");
    assert.equal(kind("ER_DATA_TOO_LONG", 1406), "permanent");
    assert.equal(kind("ER_NO_REFERENCED_ROW_2", 1452), "permanent");
    assert.equal(kind("ER_ACCESS_DENIED_ERROR", 1045), "auth");
    assert.equal(kind("ER_NO_SUCH_TABLE", 1146), "config");
    assert.equal(kind("ER_BAD_FIELD_ERROR", 1054), "config");
  });

  test("identifiers from config cannot inject SQL: check reports them and the factories refuse them", async () => {
    const evil = "users`; DROP TABLE x; --";
    assert.throws(() => quoteMysqlIdentifier(evil), { kind: "config" });
    assert.throws(() => quoteMysqlTableName("a.b.c"), { kind: "config" });
    assert.equal(quoteMysqlTableName("test.users"), "`test`.`users`");

    const sourceIssues = mysqlConnector.check.source({ table: evil, key: "id`x", cursor: ["ok", "bad col"], columns: ["a;b"] });
    assert.deepEqual(sourceIssues.map((issue) => issue.path), [["table"], ["columns", 0], ["key", 0], ["cursor", 1]]);
    const sinkIssues = mysqlConnector.check.sink({ table: "t", key: ["id", "x y"], columns: ["`"] });
    assert.deepEqual(sinkIssues.map((issue) => issue.path), [["key", 1], ["columns", 0]]);

    const connection = await fixture.connect();
    assert.throws(() => fixture.source(connection, { table: evil, key: "id" }, sourceContext()), { kind: "config", code: "config.sql_identifier" });
    assert.throws(() => fixture.sink(connection, { table: "t", key: "id`) --" }), { kind: "config", code: "config.sql_identifier" });
  });

  test("check: table XOR query, incremental needs cursor, upsert needs key, url XOR fields", () => {
    assert.equal(mysqlConnector.check.source({ key: "id" }).length, 1);
    assert.equal(mysqlConnector.check.source({ table: "t", query: "SELECT 1", key: "id" }).length, 1);
    assert.equal(mysqlConnector.check.source({ table: "t", key: "id", mode: "incremental" }).length, 1);
    assert.deepEqual(mysqlConnector.check.source({ table: "t", key: "id", cursor: "u", lag: "5s" }), []);
    assert.equal(mysqlConnector.check.sink({ table: "t", mode: "upsert" }).length, 1);
    assert.equal(mysqlConnector.check.config({ url: "mysql://a@b/c", host: "x" }).length, 1);
    assert.deepEqual(mysqlConnector.check.config({ url: "mysql://a@b/c" }), []);
  });
});
