// @needs-service mariadb
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createConnection } from "mysql2/promise";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { JunctionError } from "../../../src/core/errors.js";
import { serviceSkipReason } from "../../support/services.js";
import { MARIADB_CONFIG, MysqlFixture } from "./mysql-fixture.js";
import type { MysqlConnection } from "./mysql-fixture.js";

const signal = new AbortController().signal;

function rows(payloads: readonly unknown[]): Message[] {
  return payloads.map((payload) => createMessage({ payload }));
}

function people(from: number, to: number): Message[] {
  return rows(Array.from({ length: to - from + 1 }, (_, i) => ({ id: from + i, name: `p${from + i}` })));
}

describe("mysql sink, mode replace", { skip: await serviceSkipReason("mariadb") }, () => {
  let fixture: MysqlFixture;
  let connection: MysqlConnection;
  before(async () => {
    fixture = new MysqlFixture();
    connection = await fixture.connect();
  });
  after(async () => {
    await fixture.cleanup();
  });

  /** A table name, with its staging and old tables registered for cleanup too. */
  function table(name: string): string {
    fixture.table(`${name}__junction_staging`);
    fixture.table(`${name}__junction_old`);
    return fixture.table(name);
  }

  async function count(name: string): Promise<number> {
    return Number((await fixture.sql(`SELECT COUNT(*) AS n FROM \`${name}\``))[0]?.n);
  }

  async function exists(name: string): Promise<boolean> {
    return Number((await fixture.sql("SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", [name]))[0]?.n) > 0;
  }

  test("the target changes only at complete; its indexes survive and a view follows the new table", async () => {
    const users = table("users");
    const view = fixture.table("users_view");
    await fixture.sql(`CREATE TABLE \`${users}\` (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, UNIQUE KEY by_name (name))`);
    await fixture.sql(`INSERT INTO \`${users}\` SELECT seq, CONCAT('old', seq) FROM seq_1_to_10`);
    await fixture.sql(`CREATE VIEW \`${view}\` AS SELECT id FROM \`${users}\``);
    try {
      const sink = fixture.sink(connection, { table: users, key: "id", mode: "replace" });
      await sink.begin?.({}, signal);
      assert.deepEqual((await sink.write(people(1, 3), signal)).failures, []);
      assert.deepEqual((await sink.write(people(3, 5), signal)).failures, [], "a key written twice is an upsert in the staging table");
      assert.equal(await count(users), 10, "the target is untouched while the run is open");
      assert.equal(await count(`${users}__junction_staging`), 5);
      await sink.complete?.(signal);

      assert.deepEqual(await fixture.sql(`SELECT id, name FROM \`${users}\` ORDER BY id`), [1, 2, 3, 4, 5].map((id) => ({ id, name: `p${id}` })));
      assert.equal(await exists(`${users}__junction_staging`), false);
      assert.equal(await exists(`${users}__junction_old`), false);
      const indexes = await fixture.sql(`SHOW INDEX FROM \`${users}\``);
      assert.deepEqual([...new Set(indexes.map((index) => index.Key_name))].sort(), ["PRIMARY", "by_name"]);
      assert.equal(await count(view), 5, "views refer to the table by name");
    } finally {
      await fixture.sql(`DROP VIEW IF EXISTS \`${view}\``);
    }
  });

  test("a run that fails or stops never swaps; the next run drops its staging table and a crash's old table", async () => {
    const stock = table("stock");
    await fixture.sql(`CREATE TABLE \`${stock}\` (sku VARCHAR(10) PRIMARY KEY, qty INT NOT NULL)`);
    await fixture.sql(`INSERT INTO \`${stock}\` VALUES ('a', 1), ('b', 2)`);
    const sink = fixture.sink(connection, { table: stock, key: "sku", mode: "replace" });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ sku: "x", qty: 9 }]), signal)).failures, []);
    // No complete: the run failed or was stopped. A crash between RENAME and DROP would also leave an old table.
    await fixture.sql(`CREATE TABLE \`${stock}__junction_old\` (sku VARCHAR(10))`);
    assert.deepEqual(await fixture.sql(`SELECT sku, qty FROM \`${stock}\` ORDER BY sku`), [
      { sku: "a", qty: 1 },
      { sku: "b", qty: 2 },
    ]);

    const next = fixture.sink(await fixture.connect(), { table: stock, key: "sku", mode: "replace" });
    await next.begin?.({}, signal);
    assert.equal(await count(`${stock}__junction_staging`), 0, "the next run starts from an empty staging table");
    assert.equal(await exists(`${stock}__junction_old`), false);
    assert.deepEqual((await next.write(rows([{ sku: "c", qty: 3 }]), signal)).failures, []);
    await next.complete?.(signal);
    assert.deepEqual(await fixture.sql(`SELECT sku, qty FROM \`${stock}\``), [{ sku: "c", qty: 3 }]);
  });

  test("create_table: a missing target is created as a staging table and renamed in at complete", async () => {
    const fresh = table("fresh");
    const sink = fixture.sink(connection, { table: fresh, key: "id", mode: "replace", create_table: true });
    await sink.begin?.({}, signal);
    assert.deepEqual((await sink.write(rows([{ id: 1, name: "a" }, { id: 2, name: "b" }]), signal)).failures, []);
    assert.equal(await exists(fresh), false, "no target before complete");
    await sink.complete?.(signal);
    assert.deepEqual(await fixture.sql(`SELECT CAST(id AS CHAR) AS id, name FROM \`${fresh}\` ORDER BY id`), [
      { id: "1", name: "a" },
      { id: "2", name: "b" },
    ]);

    const missing = fixture.sink(connection, { table: table("nowhere"), key: "id", mode: "replace" });
    await assert.rejects(missing.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => error instanceof JunctionError && error.kind === "config" && /does not exist/.test(error.message));
  });

  test("a foreign key to the target or a trigger on it: replace refuses at begin and leaves the target as it is", async () => {
    const parents = table("parents");
    const children = fixture.table("children");
    await fixture.sql(`CREATE TABLE \`${parents}\` (id INT PRIMARY KEY) ENGINE=InnoDB`);
    await fixture.sql(`INSERT INTO \`${parents}\` VALUES (1)`);
    await fixture.sql(`CREATE TABLE \`${children}\` (id INT, FOREIGN KEY (id) REFERENCES \`${parents}\` (id)) ENGINE=InnoDB`);
    const sink = fixture.sink(connection, { table: parents, key: "id", mode: "replace" });
    await assert.rejects(sink.begin?.({}, signal) ?? Promise.resolve(), (error: unknown) => {
      assert.ok(error instanceof JunctionError && error.kind === "config", String(error));
      assert.match(error.message, new RegExp(`foreign key \\w+ of ${children}`));
      return true;
    });
    await fixture.sql(`DROP TABLE \`${children}\``);
    await fixture.sql(`CREATE TRIGGER \`${parents}_audit\` BEFORE INSERT ON \`${parents}\` FOR EACH ROW SET NEW.id = NEW.id`);
    await assert.rejects(sink.begin?.({}, signal) ?? Promise.resolve(), new RegExp(`trigger ${parents}_audit`));
    assert.equal(await count(parents), 1);
  });

  test("readers never see a missing or empty target: a query waiting on the swap reads the new table", async () => {
    const busy = table("busy");
    await fixture.sql(`CREATE TABLE \`${busy}\` (id INT PRIMARY KEY) ENGINE=InnoDB`);
    await fixture.sql(`INSERT INTO \`${busy}\` SELECT seq FROM seq_1_to_100`);
    const reader = await createConnection(MARIADB_CONFIG as Parameters<typeof createConnection>[0]);
    const waiter = await createConnection(MARIADB_CONFIG as Parameters<typeof createConnection>[0]);
    try {
      const sink = fixture.sink(connection, { table: busy, key: "id", mode: "replace" });
      await sink.begin?.({}, signal);
      assert.deepEqual((await sink.write(rows(Array.from({ length: 250 }, (_, i) => ({ id: i + 1 }))), signal)).failures, []);

      // An open transaction that read the table holds its metadata lock: the RENAME has to wait.
      await reader.query("START TRANSACTION");
      const [first] = await reader.query(`SELECT COUNT(*) AS n FROM \`${busy}\``);
      assert.equal(Number((first as Array<{ n: number }>)[0]?.n), 100);
      const swapped = sink.complete?.(signal);
      await waitFor(async () => Number((await fixture.sql("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE STATE LIKE 'Waiting for table metadata lock' AND INFO LIKE 'RENAME TABLE%'"))[0]?.n) === 1);
      const late = waiter.query(`SELECT COUNT(*) AS n FROM \`${busy}\``);
      await reader.query("COMMIT");
      await swapped;
      const [seen] = await late;
      assert.equal(Number((seen as Array<{ n: number }>)[0]?.n), 250, "the query that waited reads the new table");
    } finally {
      await reader.end();
      await waiter.end();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("condition not reached in 5 s");
}
