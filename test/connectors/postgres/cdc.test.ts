// @needs-service postgres
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, before, describe, test } from "node:test";
import type { PostgresSourceOptions } from "../../../src/connectors/postgres/schema.js";
import type { Batch, Source } from "../../../src/connectors/types.js";
import { JunctionError } from "../../../src/core/errors.js";
import type { Message } from "../../../src/core/message.js";
import { MemoryCheckpoints, drain, sourceContext } from "../connector-context.js";
import { CdcFixture, cdcSkipReason } from "./cdc-fixture.js";

type Row = Record<string, unknown>;

/** Reads a once-triggered CDC source to the end of WAL, acking every batch, and closes it. */
async function readAll(source: Source): Promise<Message[]> {
  try {
    return (await drain(source)).flatMap((batch) => batch.messages);
  } finally {
    await source.close?.();
  }
}

/** LSN text ("16/B374D848") as a number that compares exactly. */
function lsn(text: unknown): bigint {
  const [high, low] = String(text).split("/") as [string, string];
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

function checkpointLsn(checkpoints: MemoryCheckpoints): bigint | undefined {
  const value = checkpoints.value as { lsn?: string } | undefined;
  return value?.lsn === undefined ? undefined : lsn(value.lsn);
}

class CrashAfterCheckpointWrite extends MemoryCheckpoints {
  crash = false;
  override async set(value: unknown): Promise<void> {
    await super.set(value);
    // The process dies right after the checkpoint is stored, before the server hears of it.
    if (this.crash) throw new Error("simulated crash after the checkpoint write");
  }
}

describe("postgres cdc source", { skip: await cdcSkipReason() }, () => {
  const fixture = new CdcFixture("cdc");
  before(() => fixture.setUp());
  after(() => fixture.tearDown());

  function cdcOptions(table: string, extra: Partial<PostgresSourceOptions> = {}): PostgresSourceOptions {
    return { table, key: "id", mode: "cdc", ...fixture.names(), ...extra };
  }

  test("inserts, updates and deletes arrive in commit order with their operation, and values equal the keyset source's", async () => {
    await fixture.sql(
      `CREATE TABLE typed (id bigint PRIMARY KEY, big int8, amount numeric(30,10), ratio numeric, ts timestamptz, local_ts timestamp, day date, at_time time,
                           doc jsonb, raw json, data bytea, note text, flag boolean, score float8, small real, uid uuid, tags text[], counts int8[], stamps timestamptz[])`,
    );
    const connection = await fixture.connect();
    const options = cdcOptions("typed");
    // The first run creates the publication and the slot: changes from then on are streamed.
    assert.deepEqual(await readAll(fixture.source(connection, options)), []);

    await fixture.sql(
      `INSERT INTO typed VALUES
         (1, 9007199254740993, 12345678901234567890.0123456789, 0.1000, '2024-05-01 10:00:00.123456+02', '2024-05-01 10:00:00.5', '2024-02-29', '23:59:59.999999',
          '{"a": [1, 2.50, {"b": null}], "s": "é\\"q"}', '{"x":  1}', '\\x00ff10', E'line\\nquote" comma, tab\\t', true, 1.5e300, 3.25,
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a","b c",NULL}', '{1,9007199254740993}', '{"2024-01-01 00:00:00.000001+00"}'),
         (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    );
    const keysetBefore = (await drain(fixture.source(connection, { table: "typed", key: "id" }))).flatMap((batch) => batch.messages.map((m) => m.payload as Row));
    await fixture.sql("BEGIN; UPDATE typed SET note = 'changed', amount = amount + 1 WHERE id = 1; DELETE FROM typed WHERE id = 2; INSERT INTO typed (id) VALUES (3); COMMIT");
    const keysetAfter = (await drain(fixture.source(connection, { table: "typed", key: "id" }))).flatMap((batch) => batch.messages.map((m) => m.payload as Row));

    const changes = await readAll(fixture.source(connection, options));
    assert.deepEqual(
      changes.map((m) => [m.metadata.operation, m.key]),
      [
        ["insert", "1"],
        ["insert", "2"],
        ["update", "1"],
        ["delete", "2"],
        ["insert", "3"],
      ],
    );
    const [insert1, insert2, update1, delete2, insert3] = changes as [Message, Message, Message, Message, Message];
    assert.deepEqual(insert1.payload, keysetBefore[0]);
    assert.deepEqual(insert2.payload, keysetBefore[1]);
    assert.deepEqual(update1.payload, keysetAfter[0]);
    assert.deepEqual(insert3.payload, keysetAfter[1]);
    // REPLICA IDENTITY DEFAULT: a delete carries the primary key only.
    assert.deepEqual(delete2.payload, { id: 2 });
    // Spot checks of the exact forms, beyond equality with the keyset source.
    const values = insert1.payload as Row;
    assert.equal(values.big, "9007199254740993");
    assert.equal(values.amount, "12345678901234567890.0123456789");
    assert.equal(values.ts, "2024-05-01T08:00:00.123456Z");
    assert.equal(values.data, Buffer.from([0, 255, 16]).toString("base64"));
    assert.deepEqual(values.doc, { a: [1, 2.5, { b: null }], s: 'é"q' });

    for (const message of changes) assert.equal(message.metadata.table, "typed");
    // One transaction, one commit LSN: the two inserts share one, the last three the next one.
    const lsns = changes.map((m) => String(m.metadata.lsn));
    assert.equal(lsns[0], lsns[1]);
    assert.equal(lsns[2], lsns[3]);
    assert.equal(lsns[3], lsns[4]);
    assert.ok(lsn(lsns[0]) < lsn(lsns[2]));
    assert.equal(new Set(changes.map((m) => m.id)).size, changes.length);
  });

  test("describe() reports the table's declared columns and key, like the keyset source", async () => {
    await fixture.sql("CREATE TABLE described (id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, ts timestamptz, doc jsonb, name varchar(40))");
    const connection = await fixture.connect();
    const source = fixture.source(connection, cdcOptions("described"));
    const description = await (source.describe as NonNullable<Source["describe"]>)(new AbortController().signal);
    assert.deepEqual(description.schema?.key, ["id"]);
    assert.deepEqual(
      description.schema?.columns.map((column) => [column.name, column.type, column.nullable]),
      [
        ["id", { kind: "integer", bytes: 8 }, false],
        ["amount", { kind: "decimal", precision: 12, scale: 2 }, false],
        ["ts", { kind: "timestamp", withZone: true }, true],
        ["doc", { kind: "json" }, true],
        ["name", { kind: "text", maxLength: 40 }, true],
      ],
    );
    await source.close?.();
  });

  test("REPLICA IDENTITY FULL: a delete carries the whole old row; a composite key is a JSON array of texts", async () => {
    await fixture.sql("CREATE TABLE pairs (a int, b text, v numeric, PRIMARY KEY (a, b))");
    await fixture.sql("ALTER TABLE pairs REPLICA IDENTITY FULL");
    const connection = await fixture.connect();
    const options = cdcOptions("pairs", { key: ["a", "b"] });
    await readAll(fixture.source(connection, options));
    await fixture.sql("INSERT INTO pairs VALUES (1, 'x', 1.50)");
    await fixture.sql("DELETE FROM pairs");
    const changes = await readAll(fixture.source(connection, options));
    assert.deepEqual(
      changes.map((m) => [m.metadata.operation, m.key, m.payload]),
      [
        ["insert", '["1","x"]', { a: 1, b: "x", v: "1.50" }],
        ["delete", '["1","x"]', { a: 1, b: "x", v: "1.50" }],
      ],
    );
  });

  test("an update that leaves a TOASTed value unchanged omits it, unless the table has REPLICA IDENTITY FULL", async () => {
    await fixture.sql("CREATE TABLE toasted (id int PRIMARY KEY, n int, big text)");
    const big = "SELECT string_agg(md5(i::text), '') FROM generate_series(1, 1000) AS i";
    const connection = await fixture.connect();
    const options = cdcOptions("toasted");
    await readAll(fixture.source(connection, options));
    await fixture.sql(`INSERT INTO toasted VALUES (1, 1, (${big}))`);
    await fixture.sql("UPDATE toasted SET n = 2");
    await fixture.sql("ALTER TABLE toasted REPLICA IDENTITY FULL");
    await fixture.sql("UPDATE toasted SET n = 3");
    const changes = await readAll(fixture.source(connection, options));
    const value = (await fixture.sql<{ value: string }>(`SELECT (${big}) AS value`))[0]?.value;
    assert.ok(value !== undefined && value.length === 32_000);
    assert.deepEqual(
      changes.map((m) => [m.metadata.operation, (m.payload as Row).n, (m.payload as Row).big === value ? "big" : (m.payload as Row).big]),
      [
        ["insert", 1, "big"],
        ["update", 2, undefined],
        ["update", 3, "big"],
      ],
    );
  });

  test("a transaction's changes move the checkpoint only at its commit, and the slot then reports exactly the acknowledged LSN", async () => {
    await fixture.sql("CREATE TABLE acks (id int PRIMARY KEY, n int)");
    const connection = await fixture.connect();
    const options = cdcOptions("acks", { batch_size: 100 });
    const ctx = sourceContext();
    await readAll(fixture.source(connection, options, ctx));
    await fixture.sql("BEGIN; INSERT INTO acks SELECT i, i FROM generate_series(1, 500) AS i; COMMIT");

    const source = fixture.source(connection, options, ctx);
    let received = 0;
    let commitLsn: bigint | undefined;
    let midTransactionAcks = 0;
    try {
      for await (const batch of source.batches(new AbortController().signal)) {
        assert.ok(batch.messages.length <= 100);
        received += batch.messages.length;
        for (const message of batch.messages) commitLsn = lsn(message.metadata.lsn);
        await batch.ack();
        const stored = checkpointLsn(ctx.checkpoints);
        if (received < 500) {
          midTransactionAcks += 1;
          // Acked changes of an unfinished transaction: a restart from here must deliver the transaction again.
          assert.ok(stored === undefined || commitLsn === undefined || stored <= commitLsn, `checkpoint ${stored} passed commit ${commitLsn} mid-transaction`);
        }
      }
      assert.equal(received, 500);
      assert.ok(midTransactionAcks >= 4, `the 500 changes came in ${midTransactionAcks + 1} batches`);
      const acked = checkpointLsn(ctx.checkpoints);
      assert.ok(acked !== undefined && commitLsn !== undefined && acked > commitLsn, "the commit's end LSN is acknowledged");
      const name = (options.slot as string);
      await fixture.waitFor("the slot to report the acknowledged LSN", async () => {
        const slot = await fixture.slot(name);
        return slot?.confirmed_flush_lsn !== null && slot?.confirmed_flush_lsn !== undefined && lsn(slot.confirmed_flush_lsn) === acked ? true : undefined;
      });
    } finally {
      await source.close?.();
    }
  });

  test("after a crash between the checkpoint write and the server ack, the slot is behind the checkpoint and nothing at or before it is re-emitted", async () => {
    await fixture.sql("CREATE TABLE crash (id int PRIMARY KEY, n int)");
    const connection = await fixture.connect();
    const options = cdcOptions("crash");
    const slotName = options.slot as string;
    const checkpoints = new CrashAfterCheckpointWrite();
    const ctx = sourceContext({ checkpoints });
    await readAll(fixture.source(connection, options, ctx));
    await fixture.sql("INSERT INTO crash VALUES (1, 1), (2, 2)");
    assert.equal((await readAll(fixture.source(connection, options, ctx))).length, 2);
    const first = checkpointLsn(checkpoints) as bigint;
    await fixture.waitFor("the slot to reach the first checkpoint", async () => (lsn((await fixture.slot(slotName))?.confirmed_flush_lsn) === first ? true : undefined));

    await fixture.sql("INSERT INTO crash VALUES (3, 3), (4, 4)");
    checkpoints.crash = true;
    const crashing = fixture.source(connection, options, ctx);
    let failedAcks = 0;
    try {
      for await (const batch of crashing.batches(new AbortController().signal)) {
        await batch.ack().catch(() => (failedAcks += 1));
      }
    } finally {
      await crashing.close?.();
    }
    assert.ok(failedAcks > 0);
    const second = checkpointLsn(checkpoints) as bigint;
    assert.ok(second > first);
    await fixture.waitFor("the slot to be released", async () => ((await fixture.slot(slotName))?.active === false ? true : undefined));
    assert.equal(lsn((await fixture.slot(slotName))?.confirmed_flush_lsn), first, "the server never heard of the second checkpoint");

    checkpoints.crash = false;
    await fixture.sql("INSERT INTO crash VALUES (5, 5)");
    const resumed = await readAll(fixture.source(connection, options, ctx));
    assert.deepEqual(
      resumed.map((m) => m.key),
      ["5"],
      "rows 3 and 4 were acked before the crash and are not delivered again",
    );
    assert.ok((checkpointLsn(checkpoints) as bigint) > second);
  });

  test("a replication connection ended by the server fails the read as transient; the next read resumes from the checkpoint", async () => {
    await fixture.sql("CREATE TABLE severed (id int PRIMARY KEY)");
    const connection = await fixture.connect();
    const options = cdcOptions("severed");
    const slotName = options.slot as string;
    const ctx = sourceContext({ follow: true });
    const source = fixture.source(connection, options, ctx);
    const commits: bigint[] = [];
    const reading = (async () => {
      for await (const batch of source.batches(new AbortController().signal)) {
        for (const message of batch.messages) commits.push(lsn(message.metadata.lsn));
        await batch.ack();
      }
    })();
    // The read may fail before pg_terminate_backend returns: hold its outcome from the start,
    // so the rejection is never unhandled for a moment.
    const outcome = reading.then(
      () => undefined,
      (error: unknown) => error,
    );
    try {
      await fixture.waitFor("the slot to be streamed", async () => ((await fixture.slot(slotName))?.active === true ? true : undefined));
      await fixture.sql("INSERT INTO severed VALUES (1)");
      // Its commit may travel in a later (empty) batch than the change itself.
      await fixture.waitFor("the insert to be acknowledged", async () => (commits.length === 1 && (checkpointLsn(ctx.checkpoints) ?? 0n) > (commits[0] as bigint) ? true : undefined));
      await fixture.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", [slotName]);
      const error = await outcome;
      assert.ok(error instanceof JunctionError && error.kind === "transient", `expected a transient error, got ${String(error)}`);
    } finally {
      await source.close?.();
    }
    await fixture.sql("INSERT INTO severed VALUES (2)");
    const resumed = await readAll(fixture.source(connection, { ...options }, { ...ctx, follow: false }));
    assert.deepEqual(
      resumed.map((m) => m.key),
      ["2"],
    );
  });

  test("a slot still held by another connection (a predecessor going away) is waited for, then streamed", async () => {
    await fixture.sql("CREATE TABLE handover (id int PRIMARY KEY)");
    const connection = await fixture.connect();
    const options = cdcOptions("handover");
    const slotName = options.slot as string;
    const ctx = sourceContext({ follow: true });
    const first = fixture.source(connection, options, ctx);
    const firstStop = new AbortController();
    const firstReading = (async () => {
      for await (const batch of first.batches(firstStop.signal)) await batch.ack();
    })();
    await fixture.waitFor("the first reader to stream", async () => ((await fixture.slot(slotName))?.active === true ? true : undefined));

    const second = fixture.source(connection, options, ctx);
    const secondStop = new AbortController();
    const keys: string[] = [];
    const secondReading = (async () => {
      for await (const batch of second.batches(secondStop.signal)) {
        for (const message of batch.messages) keys.push(String(message.key));
        await batch.ack();
      }
    })();
    try {
      // The second reader is refused the slot (in use) and keeps trying while the first one holds it.
      await new Promise((resolve) => setTimeout(resolve, 700));
      firstStop.abort();
      await firstReading;
      await first.close?.();
      await fixture.sql("INSERT INTO handover VALUES (1)");
      await fixture.waitFor("the second reader to take over the slot", async () => (keys.includes("1") ? true : undefined));
    } finally {
      secondStop.abort();
      await secondReading;
      await second.close?.();
    }
  });

  test("while idle, heartbeats move the slot past WAL written for other tables", async () => {
    await fixture.sql("CREATE TABLE quiet (id int PRIMARY KEY)");
    await fixture.sql("CREATE TABLE busy (id int PRIMARY KEY, filler text)");
    const connection = await fixture.connect();
    const options = cdcOptions("quiet", { heartbeat_interval: "100ms" });
    const slotName = options.slot as string;
    const ctx = sourceContext({ follow: true });
    const stop = new AbortController();
    const source = fixture.source(connection, options, ctx);
    const keys: string[] = [];
    let emptyBatches = 0;
    const consuming = (async () => {
      for await (const batch of source.batches(stop.signal)) {
        if (batch.messages.length === 0) emptyBatches += 1;
        for (const message of batch.messages) keys.push(String(message.key));
        await batch.ack();
      }
    })();
    try {
      await fixture.waitFor("the slot to be streamed", async () => ((await fixture.slot(slotName))?.active === true ? true : undefined));
      await fixture.sql("INSERT INTO quiet VALUES (1)");
      await fixture.waitFor("the insert", async () => (keys.length === 1 ? true : undefined));
      await fixture.sql("INSERT INTO busy SELECT i, repeat('x', 200) FROM generate_series(1, 2000) AS i");
      const walEnd = (await fixture.sql<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn"))[0]?.lsn as string;
      await fixture.waitFor("the slot to pass the other table's WAL", async () => {
        const slot = await fixture.slot(slotName);
        return lsn(slot?.confirmed_flush_lsn) >= lsn(walEnd) ? true : undefined;
      });
      // The server heard it only after it was stored.
      assert.ok((checkpointLsn(ctx.checkpoints) as bigint) >= lsn(walEnd));
      assert.deepEqual(keys, ["1"]);
      assert.ok(emptyBatches > 0);
    } finally {
      stop.abort();
      await consuming;
      await source.close?.();
    }
  });

  test("close() ends the replication connection and leaves no timer, socket or listener behind", async () => {
    await fixture.sql("CREATE TABLE closing (id int PRIMARY KEY)");
    const resources = (): string[] => process.getActiveResourcesInfo().filter((kind) => kind !== "TTYWrap" && kind !== "FSReqCallback").sort();
    const baseline = resources();
    const connection = await fixture.connect({ application_name: `${fixture.applicationName}_close` });
    const options = cdcOptions("closing", { heartbeat_interval: "50ms" });
    const stop = new AbortController();
    const source = fixture.source(connection, options, sourceContext({ follow: true }));
    const iterator = source.batches(stop.signal)[Symbol.asyncIterator]();
    const pending = iterator.next();
    const sessions = async (): Promise<string[]> =>
      (await fixture.sql<{ backend_type: string }>("SELECT backend_type FROM pg_stat_activity WHERE application_name = $1", [`${fixture.applicationName}_close`])).map(
        (row) => row.backend_type,
      );
    await fixture.waitFor("the walsender", async () => ((await sessions()).includes("walsender") ? true : undefined));
    await fixture.sql("INSERT INTO closing VALUES (1)");
    const first = (await pending).value as Batch;
    assert.equal(first.messages.length, 1);
    await first.ack();

    stop.abort();
    assert.equal((await iterator.next()).done, true);
    await source.close?.();
    await fixture.release(connection);
    await fixture.waitFor("every session to end", async () => ((await sessions()).length === 0 ? true : undefined));
    assert.equal(getEventListeners(stop.signal, "abort").length, 0);
    await fixture.waitFor("resources to return to the baseline", async () => (JSON.stringify(resources()) === JSON.stringify(baseline) ? true : undefined), 3_000).catch(() => {
      assert.deepEqual(resources(), baseline);
    });
  });
});
