// @needs-service mariadb
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Batch } from "../../../src/connectors/types.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain, sourceContext } from "../connector-context.js";
import { MysqlFixture } from "./mysql-fixture.js";
import type { MysqlConnection } from "./mysql-fixture.js";

const T0 = "2024-01-01 00:00:00.000000";

function ids(batches: Batch[]): number[] {
  return batches.flatMap((batch) => batch.messages.map((message) => (message.payload as { id: number }).id));
}

describe("mysql source", { skip: await serviceSkipReason("mariadb") }, () => {
  let fixture: MysqlFixture;
  let connection: MysqlConnection;
  before(async () => {
    fixture = new MysqlFixture();
    connection = await fixture.connect();
  });
  after(async () => {
    await fixture.cleanup();
  });

  async function seedUsers(name: string, rows: number, updatedAt: (i: number) => string): Promise<string> {
    const table = fixture.table(name);
    await fixture.sql(`CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, updated_at DATETIME(6) NOT NULL, KEY (updated_at, id))`);
    for (let start = 1; start <= rows; start += 1000) {
      const values: unknown[] = [];
      for (let i = start; i < Math.min(start + 1000, rows + 1); i++) values.push([i, `user-${i}`, updatedAt(i)]);
      await fixture.sql(`INSERT INTO \`${table}\` (id, name, updated_at) VALUES ?`, [values]);
    }
    return table;
  }

  test("cursor ties: 5,000 rows sharing one updated_at arrive exactly once in batches of 300, also across a restart from a mid-way checkpoint", async () => {
    const table = await seedUsers("ties", 5000, () => T0);
    const options = { table, key: "id", cursor: "updated_at", batch_size: 300 };

    const whole = await drain(fixture.source(connection, options));
    assert.equal(whole.length, 17);
    assert.deepEqual(ids(whole), Array.from({ length: 5000 }, (_, i) => i + 1));

    // A run stopped after 7 acked batches (the 8th read but never acked), then a fresh source resumes.
    const ctx = sourceContext();
    const first: Batch[] = [];
    const iterator = fixture.source(connection, options, ctx).batches(new AbortController().signal)[Symbol.asyncIterator]();
    for (let k = 0; k < 8; k++) first.push((await iterator.next()).value as Batch);
    for (const batch of first.slice(0, 7)) await batch.ack();
    await iterator.return?.();
    assert.deepEqual(ctx.checkpoints.value, { after: { updated_at: T0, id: 2100 } });

    const resumed = await drain(fixture.source(connection, options, ctx));
    const delivered = [...ids(first.slice(0, 7)), ...ids(resumed)];
    assert.deepEqual(delivered, Array.from({ length: 5000 }, (_, i) => i + 1));
    assert.deepEqual(ctx.checkpoints.value, { after: { updated_at: T0, id: 5000 } });
  });

  test("rows inserted and updated while a sync runs arrive by the next run", async () => {
    const table = await seedUsers("live", 1000, (i) => `2024-01-01 00:00:${String(Math.floor(i / 100)).padStart(2, "0")}.000000`);
    const options = { table, key: "id", cursor: "updated_at", batch_size: 100 };
    const ctx = sourceContext();
    const seen: Array<{ id: number; name: string }> = [];
    let changed = false;
    for await (const batch of fixture.source(connection, options, ctx).batches(new AbortController().signal)) {
      seen.push(...batch.messages.map((message) => message.payload as { id: number; name: string }));
      await batch.ack();
      if (!changed) {
        changed = true;
        // An already-read row changes, a new row appears; both get a later updated_at.
        await fixture.sql(`UPDATE \`${table}\` SET name = 'renamed', updated_at = '2024-06-01 00:00:00' WHERE id = 5`);
        await fixture.sql(`INSERT INTO \`${table}\` (id, name, updated_at) VALUES (5000, 'late', '2024-06-01 00:00:00')`);
      }
    }
    for await (const batch of fixture.source(connection, options, ctx).batches(new AbortController().signal)) {
      seen.push(...batch.messages.map((message) => message.payload as { id: number; name: string }));
      await batch.ack();
    }
    assert.ok(seen.some((row) => row.id === 5 && row.name === "renamed"));
    assert.ok(seen.some((row) => row.id === 5000 && row.name === "late"));
    assert.equal(new Set(seen.map((row) => row.id)).size, 1001);
    // Third run: nothing new.
    assert.equal((await drain(fixture.source(connection, options, ctx))).length, 0);
  });

  test("composite key and composite cursor: ties on both cursor columns page exactly once", async () => {
    const table = fixture.table("composite");
    await fixture.sql(`CREATE TABLE \`${table}\` (tenant VARCHAR(20) NOT NULL, id INT NOT NULL, version INT NOT NULL, updated_at DATETIME(6) NOT NULL, PRIMARY KEY (tenant, id))`);
    const values: unknown[] = [];
    for (const tenant of ["a", "b", "c"]) for (let id = 1; id <= 70; id++) values.push([tenant, id, id % 3, T0]);
    await fixture.sql(`INSERT INTO \`${table}\` VALUES ?`, [values]);
    const ctx = sourceContext();
    const options = { table, key: ["tenant", "id"], cursor: ["updated_at", "version"], batch_size: 23 };
    const first = await drain(fixture.source(connection, options, ctx), { limit: 4 });
    const rest = await drain(fixture.source(connection, options, ctx));
    const keys = [...first, ...rest].flatMap((batch) => batch.messages.map((message) => message.key));
    assert.equal(keys.length, 210);
    assert.equal(new Set(keys).size, 210);
    assert.equal(keys[0], JSON.stringify(["a", "3"]));
    assert.deepEqual(Object.keys((ctx.checkpoints.value as { after: object }).after), ["updated_at", "version", "tenant", "id"]);
  });

  test("full_refresh reads everything every run, paged by key, without a checkpoint; where and columns apply", async () => {
    const table = await seedUsers("full", 250, () => T0);
    const ctx = sourceContext();
    const options = { table, key: "id", mode: "full_refresh" as const, batch_size: 100, where: "id % 2 = 0", columns: ["name"] };
    for (let run = 0; run < 2; run++) {
      const batches = await drain(fixture.source(connection, options, ctx));
      assert.equal(batches.length, 2);
      assert.deepEqual(ids(batches), Array.from({ length: 125 }, (_, i) => (i + 1) * 2));
      assert.deepEqual(Object.keys(batches[0]?.messages[0]?.payload as object).sort(), ["id", "name"]);
    }
    assert.equal(ctx.checkpoints.writes, 0);
  });

  test("a query source and lag: rows newer than NOW() - lag wait for a later run", async () => {
    const table = fixture.table("lagged");
    await fixture.sql(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, updated_at DATETIME(6) NOT NULL)`);
    await fixture.sql(`INSERT INTO \`${table}\` VALUES (1, '2024-01-01 00:00:00'), (2, UTC_TIMESTAMP(6))`);
    const ctx = sourceContext();
    const batches = await drain(fixture.source(connection, { query: `SELECT id, updated_at FROM \`${table}\``, key: "id", cursor: "updated_at", lag: "1h" }, ctx));
    assert.deepEqual(ids(batches), [1]);
    assert.equal(batches[0]?.messages[0]?.payload && (batches[0].messages[0].payload as { updated_at: string }).updated_at, "2024-01-01T00:00:00.000000Z");
  });

  test("a nacked batch is read again and the checkpoint does not move past it", async () => {
    const table = await seedUsers("nack", 30, () => T0);
    const ctx = sourceContext();
    const iterator = fixture.source(connection, { table, key: "id", cursor: "updated_at", batch_size: 10 }, ctx).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const one = (await iterator.next()).value as Batch;
    await one.ack();
    const two = (await iterator.next()).value as Batch;
    await two.nack(new Error("sink down"), true);
    const again = (await iterator.next()).value as Batch;
    assert.deepEqual(ids([again]), ids([two]));
    await iterator.return?.();
    assert.deepEqual(ctx.checkpoints.value, { after: { updated_at: T0, id: 10 } });
  });
});
