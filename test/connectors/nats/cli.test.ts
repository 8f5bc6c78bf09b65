// @needs-service nats
// The nats connector through the CLI: `junction check` reports its health, a `--once` run
// declares the stream, reads what is waiting and ends, and a second run finds nothing new.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { runCli } from "../../support/cli.js";
import { serviceSkipReason } from "../../support/services.js";
import { tempDir } from "../../support/temp-dir.js";
import { NATS_URL, NatsFixture } from "./nats-fixture.js";

describe("nats through the CLI", { skip: await serviceSkipReason("nats") }, () => {
  const fx = new NatsFixture("cli");
  const dir = tempDir();

  before(() => fx.setUp());
  after(async () => {
    await fx.tearDown();
    dir.remove();
  });

  test("check reports the connection healthy; run --once reads what waits and ends; the next run reads nothing", { timeout: 120_000 }, async () => {
    const stream = fx.name("orders");
    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
name: nats-cli
admin: false
log: { level: warn }
connections:
  bus:
    type: nats
    servers: ${NATS_URL}
    streams:
      - { name: ${stream}, subjects: ["${stream}.>"], duplicate_window: 1m }
  db: { type: sqlite, path: ./out.db }
integrations:
  orders:
    source: { connection: bus, stream: ${stream}, consumer: orders }
    target: { connection: db, table: orders, mode: upsert, key: id, create_table: true }
`,
    );
    const check = await runCli(["check"], { cwd: dir.path });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /bus/);
    assert.match(check.stdout, /JetStream enabled/);

    for (let id = 1; id <= 5; id++) await fx.publish(`${stream}.created`, { id, total: id * 10 }, {}, `order-${id}`);
    const first = await runCli(["run", "--once", "--json"], { cwd: dir.path });
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as { runs: Array<{ status: string; counts: { read: number; written: number } }> };
    assert.equal(summary.runs[0]?.status, "succeeded");
    assert.equal(summary.runs[0]?.counts.written, 5);
    const db = openSqlite(join(dir.path, "out.db"), { readonly: true });
    assert.equal((db.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n, 5);
    db.close();

    const second = await runCli(["run", "--once", "--json"], { cwd: dir.path });
    assert.equal(second.code, 0, second.stderr);
    assert.equal((JSON.parse(second.stdout) as { runs: Array<{ counts: { read: number } }> }).runs[0]?.counts.read, 0);
  });
});
