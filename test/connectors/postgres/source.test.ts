// @needs-service postgres
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Batch, Source } from "../../../src/connectors/types.js";
import type { Message } from "../../../src/core/message.js";
import { serviceSkipReason } from "../../support/services.js";
import { drain, sourceContext } from "../connector-context.js";
import { PostgresFixture } from "./postgres-fixture.js";

type Row = Record<string, unknown>;

function ids(batches: readonly Batch[]): number[] {
  return batches.flatMap((batch) => batch.messages.map((message) => Number((message.payload as Row).id)));
}

/** Reads `count` batches, acking each one only after the next was pulled (as the runner does), then stops. */
async function readAhead(source: Source, count: number): Promise<Message[]> {
  const iterator = source.batches(new AbortController().signal)[Symbol.asyncIterator]();
  const acked: Message[] = [];
  let previous = (await iterator.next()).value as Batch | undefined;
  for (let k = 0; k < count; k++) {
    const current = (await iterator.next()).value as Batch | undefined;
    assert.ok(previous && current);
    await previous.ack();
    acked.push(...previous.messages);
    previous = current;
  }
  await iterator.return?.();
  return acked;
}

describe("postgres source", { skip: await serviceSkipReason("postgres") }, () => {
  const fixture = new PostgresFixture("src");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  test("cursor ties: 5,000 rows sharing one updated_at arrive exactly once across batch boundaries and a restart", async () => {
    await fixture.sql("CREATE TABLE ties (id bigint PRIMARY KEY, name text, updated_at timestamptz NOT NULL)");
    await fixture.sql("INSERT INTO ties SELECT i, 'user-' || i, '2024-03-01 12:00:00.123456+00' FROM generate_series(1, 5000) AS i");
    const connection = await fixture.connect();
    const options = { table: "ties", key: "id", cursor: "updated_at", batch_size: 300 };

    // One uninterrupted run.
    const whole = ids(await drain(fixture.source(connection, options)));
    assert.equal(whole.length, 5000);
    assert.equal(new Set(whole).size, 5000);

    // A run stopped mid-way (batch 8 read, never acked), then a restart from the checkpoint.
    const ctx = sourceContext();
    const first = (await readAhead(fixture.source(connection, options, ctx), 7)).map((message) => Number((message.payload as Row).id));
    assert.equal(first.length, 2100);
    assert.deepEqual(ctx.checkpoints.value, { columns: ["updated_at", "id"], values: ["2024-03-01 12:00:00.123456+00", "2100"] });
    const rest = ids(await drain(fixture.source(connection, options, ctx)));
    const all = [...first, ...rest];
    assert.equal(all.length, 5000);
    assert.deepEqual(
      all.sort((a, b) => a - b),
      Array.from({ length: 5000 }, (_, i) => i + 1),
    );
    assert.equal((await drain(fixture.source(connection, options, ctx))).length, 0);
  });

  test("rows inserted and updated while a sync runs all arrive by the next run (lag: 0)", async () => {
    await fixture.sql("CREATE TABLE live (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL)");
    await fixture.sql("INSERT INTO live SELECT i, 'v1', timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' FROM generate_series(1, 1000) AS i");
    const connection = await fixture.connect();
    const ctx = sourceContext();
    const options = { table: "live", key: "id", cursor: "updated_at", lag: 0, batch_size: 100 };

    const seen = new Map<number, string>();
    const record = (messages: readonly Message[]): void => {
      for (const message of messages) seen.set(Number((message.payload as Row).id), String((message.payload as Row).name));
    };
    let pulled = 0;
    for await (const batch of fixture.source(connection, options, ctx).batches(new AbortController().signal)) {
      record(batch.messages);
      await batch.ack();
      pulled += 1;
      if (pulled === 3) {
        // Between batches: change a row already read, one not yet read, and add new rows.
        await fixture.sql("UPDATE live SET name = 'v2', updated_at = now() WHERE id IN (50, 900)");
        await fixture.sql("INSERT INTO live VALUES (1001, 'v1', now()), (1002, 'v1', now())");
      }
      if (pulled === 6) await fixture.sql("UPDATE live SET name = 'v3', updated_at = now() WHERE id IN (50, 1001)");
    }
    for (const batch of await drain(fixture.source(connection, options, ctx))) record(batch.messages);
    assert.equal(seen.size, 1002);
    assert.equal(seen.get(50), "v3");
    assert.equal(seen.get(900), "v2");
    assert.equal(seen.get(1001), "v3");
    assert.equal(seen.get(1002), "v1");
  });

  test("lag holds back rows changed too recently", async () => {
    await fixture.sql("CREATE TABLE lagged (id int PRIMARY KEY, updated_at timestamptz NOT NULL)");
    await fixture.sql("INSERT INTO lagged VALUES (1, now() - interval '2 hours'), (2, now())");
    const connection = await fixture.connect();
    const read = ids(await drain(fixture.source(connection, { table: "lagged", key: "id", cursor: "updated_at", lag: "1h" })));
    assert.deepEqual(read, [1]);
  });

  test("composite cursor (updated_at, version) and composite key (tenant, id): exactly once, and a restart resumes", async () => {
    await fixture.sql("CREATE TABLE versions (tenant text, id int, version int NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (tenant, id))");
    await fixture.sql(`INSERT INTO versions
      SELECT t, i, i % 3, timestamptz '2024-01-01 00:00:00+00' + (i % 4) * interval '1 minute'
      FROM unnest(array['a', 'b', 'c']) AS t, generate_series(1, 400) AS i`);
    const connection = await fixture.connect();
    const ctx = sourceContext();
    const options = { table: "versions", key: ["tenant", "id"], cursor: ["updated_at", "version"], batch_size: 70 };
    const first = await readAhead(fixture.source(connection, options, ctx), 5);
    const checkpoint = ctx.checkpoints.value as { columns: string[]; values: string[] };
    assert.deepEqual(checkpoint.columns, ["updated_at", "version", "tenant", "id"]);
    const rest = (await drain(fixture.source(connection, options, ctx))).flatMap((batch) => batch.messages);
    const all = [...first, ...rest];
    assert.equal(all.length, 1200);
    assert.equal(new Set(all.map((message) => message.key)).size, 1200);
    assert.equal(all[0]?.key, '["a","12"]'); // first: i % 4 = 0 and i % 3 = 0
    // Order is (updated_at, version, tenant, id): never backwards.
    const order = all.map((message) => {
      const row = message.payload as { updated_at: string; version: number; tenant: string; id: number };
      return [row.updated_at, row.version, row.tenant, row.id] as const;
    });
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1], order[i]] as [(typeof order)[number], (typeof order)[number]];
      const compare = a[0].localeCompare(b[0]) || a[1] - b[1] || a[2].localeCompare(b[2]) || a[3] - b[3];
      assert.ok(compare < 0, `row ${i} out of order`);
    }
  });

  test("full_refresh reads everything every run, paged by key, and checkpoints nothing", async () => {
    await fixture.sql("CREATE TABLE everything (id int PRIMARY KEY, name text, active boolean)");
    await fixture.sql("INSERT INTO everything SELECT i, 'n' || i, i % 2 = 0 FROM generate_series(1, 250) AS i");
    const connection = await fixture.connect();
    const ctx = sourceContext({ batchSize: 100 });
    for (let run = 0; run < 2; run++) {
      const batches = await drain(fixture.source(connection, { table: "everything", key: "id", columns: ["name"], where: "active" }, ctx));
      assert.deepEqual(
        batches.map((batch) => batch.messages.length),
        [100, 25],
      );
      assert.deepEqual(batches[0]?.messages[0]?.payload, { name: "n2", id: 2 });
      assert.equal(batches[0]?.messages[0]?.id, "everything:2");
    }
    assert.equal(ctx.checkpoints.writes, 0);
    // A nacked batch is read again within the run.
    const iterator = fixture.source(connection, { table: "everything", key: "id", mode: "full_refresh" }, ctx).batches(new AbortController().signal)[Symbol.asyncIterator]();
    const one = (await iterator.next()).value as Batch;
    await one.nack(new Error("stop"), true);
    const again = (await iterator.next()).value as Batch;
    assert.equal(again.messages[0]?.id, "everything:1");
    await iterator.return?.();
  });

  test("a query source pages by its key and sees the connection's schema", async () => {
    await fixture.sql("CREATE TABLE orders (id int PRIMARY KEY, amount numeric(10,2))");
    await fixture.sql("INSERT INTO orders SELECT i, i * 1.5 FROM generate_series(1, 30) AS i");
    const connection = await fixture.connect();
    const messages = (await drain(fixture.source(connection, { query: "SELECT id AS order_id, amount FROM orders WHERE amount > 30", key: "order_id", batch_size: 4 }))).flatMap(
      (batch) => batch.messages,
    );
    assert.equal(messages.length, 10);
    assert.deepEqual(messages[0]?.payload, { order_id: 21, amount: "31.50" });
  });
});
