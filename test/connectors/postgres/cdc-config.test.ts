// The parts of the postgres CDC source that need no server: config checks, slot and
// publication names, the start decision against the checkpoint, LSN text, and the bounded
// queue between the replication stream and the runner.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultReplicationName, planCdc } from "../../../src/connectors/postgres/cdc/cdc-plan.js";
import { ChangeQueue } from "../../../src/connectors/postgres/cdc/change-queue.js";
import { formatLsn, parseLsn } from "../../../src/connectors/postgres/cdc/lsn.js";
import type { SlotState } from "../../../src/connectors/postgres/cdc/replication-slot.js";
import { decideStart } from "../../../src/connectors/postgres/cdc/slot-position.js";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import { JunctionError } from "../../../src/core/errors.js";
import { createMessage } from "../../../src/core/message.js";

const check = postgresConnector.check.source;

function paths(issues: Array<{ path: Array<string | number> }>): string[] {
  return issues.map((issue) => issue.path.join("."));
}

describe("postgres cdc config", () => {
  test("mode cdc needs table and refuses query, cursor, lag, where, poll_interval and soft_delete; the cdc options need mode cdc", () => {
    assert.deepEqual(check({ table: "users", key: "id", mode: "cdc" }), []);
    assert.deepEqual(check({ table: "users", key: "id", mode: "cdc", publication: "pub_1", slot: "slot_1", heartbeat_interval: "5s" }), []);
    assert.deepEqual(paths(check({ table: "users", key: "id", mode: "cdc", cursor: "updated_at", lag: "5s", where: "x > 1", poll_interval: "1s" })), [
      "cursor",
      "lag",
      "where",
      "poll_interval",
    ]);
    assert.ok(paths(check({ query: "select 1 as id", key: "id", mode: "cdc" })).includes(""), "cdc without table");
    assert.deepEqual(paths(check({ table: "users", key: "id", slot: "s", publication: "p", heartbeat_interval: "1s" })), ["publication", "slot", "heartbeat_interval"]);
  });

  test("slot and publication names must be lower-case identifiers of at most 63 characters", () => {
    const issues = check({ table: "users", key: "id", mode: "cdc", slot: "Users-Slot", publication: "x".repeat(64) });
    assert.deepEqual(paths(issues), ["publication", "slot"]);
    assert.match(issues[1]?.message ?? "", /lower-case letters, digits and underscores/);
  });

  test("the default names are junction_<integration>, made valid and at most 63 characters", () => {
    assert.equal(defaultReplicationName("Orders-Sync.v2"), "junction_orders_sync_v2");
    assert.equal(defaultReplicationName("a".repeat(80)).length, 63);
    const plan = planCdc({ table: "sales.orders", key: ["id", "region"], mode: "cdc" }, "public", "Orders Sync", 500);
    assert.equal(plan.slot, "junction_orders_sync");
    assert.equal(plan.publication, "junction_orders_sync");
    assert.equal(plan.qualified, '"sales"."orders"');
    assert.equal(plan.heartbeatMs, 10_000);
    assert.equal(plan.batchSize, 500);
    assert.throws(
      () => planCdc({ table: "orders", key: "id", mode: "cdc", slot: "Bad Name" }, "public", "x", 100),
      (error: unknown) => error instanceof JunctionError && error.kind === "config" && /slot "Bad Name"/.test(error.message),
    );
  });

  test("LSN text parses and prints like PostgreSQL's pg_lsn", () => {
    assert.equal(parseLsn("16/B374D848"), (0x16n << 32n) | 0xb374d848n);
    assert.equal(formatLsn(parseLsn("00000000/01948098")), "0/1948098");
    assert.equal(formatLsn(parseLsn("FFFFFFFF/FFFFFFFF") - 1n), "FFFFFFFF/FFFFFFFE");
    assert.ok(parseLsn("1/0") > parseLsn("0/FFFFFFFF"));
  });
});

describe("postgres cdc start decision", () => {
  const slot = (overrides: Partial<SlotState> = {}): SlotState => ({
    name: "s",
    slotType: "logical",
    plugin: "pgoutput",
    database: "app",
    confirmedFlush: parseLsn("0/100"),
    walStatus: "reserved",
    invalidated: false,
    activePid: null,
    ...overrides,
  });
  const base = { integration: "sync", slotName: "s", currentDatabase: "app" };
  const checkpoint = (lsn: string, overrides = {}) => ({ lsn: parseLsn(lsn), slot: "s", database: "app", ...overrides });
  const refused = (code: string) => (error: unknown) => error instanceof JunctionError && error.kind === "config" && error.code === code;

  test("no slot and no checkpoint: create one; a slot without checkpoint: resume from the slot", () => {
    assert.deepEqual(decideStart({ ...base, slot: undefined, checkpoint: undefined }), { action: "create" });
    assert.deepEqual(decideStart({ ...base, slot: slot(), checkpoint: undefined }), { action: "resume", from: parseLsn("0/100") });
  });

  test("a slot behind the checkpoint (a crash before the ack reached the server) resumes at the checkpoint; an equal one too", () => {
    assert.deepEqual(decideStart({ ...base, slot: slot(), checkpoint: checkpoint("0/180") }), { action: "resume", from: parseLsn("0/180") });
    assert.deepEqual(decideStart({ ...base, slot: slot(), checkpoint: checkpoint("0/100") }), { action: "resume", from: parseLsn("0/100") });
  });

  test("a missing, overtaken or invalidated slot, or one of another kind or database, is refused", () => {
    assert.throws(() => decideStart({ ...base, slot: undefined, checkpoint: checkpoint("0/100") }), refused("config.postgres_slot_missing"));
    assert.throws(() => decideStart({ ...base, slot: slot({ confirmedFlush: parseLsn("0/200") }), checkpoint: checkpoint("0/180") }), refused("config.postgres_slot_ahead"));
    assert.throws(() => decideStart({ ...base, slot: slot({ walStatus: "lost", invalidated: true }), checkpoint: checkpoint("0/180") }), refused("config.postgres_slot_invalidated"));
    assert.throws(() => decideStart({ ...base, slot: slot({ plugin: "wal2json" }), checkpoint: undefined }), refused("config.postgres_slot"));
    assert.throws(() => decideStart({ ...base, slot: slot({ slotType: "physical", plugin: null }), checkpoint: undefined }), refused("config.postgres_slot"));
    assert.throws(() => decideStart({ ...base, slot: slot({ database: "other" }), checkpoint: undefined }), refused("config.postgres_slot"));
    assert.throws(() => decideStart({ ...base, slot: slot(), checkpoint: checkpoint("0/180", { slot: "old" }) }), refused("config.postgres_slot"));
    assert.throws(() => decideStart({ ...base, slot: slot(), checkpoint: checkpoint("0/180", { database: "before" }) }), refused("config.postgres_slot"));
  });
});

describe("postgres cdc change queue", () => {
  const change = (n: number) => ({ kind: "change" as const, message: createMessage({ id: `m${n}`, payload: { n } }) });
  const signal = new AbortController().signal;

  test("a push waits while the queue holds its capacity of changes, and resumes once a batch is taken", async () => {
    const queue = new ChangeQueue(3);
    for (let n = 1; n <= 3; n++) await queue.push(change(n));
    let fourthQueued = false;
    const fourth = queue.push(change(4)).then(() => (fourthQueued = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fourthQueued, false, "the producer (the paused replication stream) waits for room");
    assert.equal(queue.size, 3);
    assert.deepEqual(
      queue.take(2).messages.map((m) => m.id),
      ["m1", "m2"],
    );
    await fourth;
    assert.deepEqual(
      queue.take(10).messages.map((m) => m.id),
      ["m3", "m4"],
    );
  });

  test("positions never wait, collapse into the latest, and travel with the changes before them", async () => {
    const queue = new ChangeQueue(1);
    await queue.push(change(1));
    await queue.push({ kind: "position", lsn: 10n });
    await queue.push({ kind: "position", lsn: 12n });
    assert.equal(queue.size, 2);
    const taken = queue.take(1);
    assert.deepEqual(
      taken.messages.map((m) => m.id),
      ["m1"],
    );
    assert.equal(taken.position, 12n);
    await queue.push({ kind: "position", lsn: 20n });
    assert.deepEqual(queue.take(5), { messages: [], position: 20n });
  });

  test("close releases a waiting producer; wait returns at once after a failure", async () => {
    const queue = new ChangeQueue(1);
    await queue.push(change(1));
    const blocked = queue.push(change(2));
    queue.close();
    await blocked;
    assert.equal(queue.size, 1);
    const failing = new ChangeQueue(1);
    failing.fail(new Error("connection lost"));
    await failing.wait(60_000, signal);
    assert.match(String(failing.failure), /connection lost/);
  });
});
