// @slow
// "2xx only after durable acceptance", proven with SIGKILL: webhooks are POSTed to a running
// `junction run` that is killed while requests are in flight. Every request that was answered
// 200 is in the target after a restart; the sender's retries of the others are taken once;
// repeats of accepted ids are acknowledged and not stored again.
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { generateStandardWebhookSecret } from "../../src/webhooks/signatures/index.js";
import { runCli, spawnCli } from "../support/cli.js";
import { freePort } from "../support/free-port.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());
const EVENTS = 400;

test("webhooks answered 200 survive a SIGKILL of the process that received them", { timeout: 180_000 }, async (t) => {
  const secret = generateStandardWebhookSecret();
  const port = await freePort();
  writeFileSync(
    join(dir.path, "junction.yaml"),
    `version: 1
admin: { listen: "127.0.0.1:${port}" }
connections:
  db: { type: sqlite, path: ./events.db }
  ticks: { type: generate }
  nowhere: { type: discard }
webhooks:
  inbound:
    orders:
      path: /webhooks/orders
      verifier: { type: standard, secret: "${secret}" }
integrations:
  store:
    source: { webhook: orders }
    target: { connection: db, table: orders, mode: upsert, key: id, create_table: true }
    transform:
      - map: "{ 'id': $message.metadata.event_id, 'n': n }"
  keep_alive:
    source: { connection: ticks, interval: 1s }
    target: { connection: nowhere }
    sync: { trigger: continuous }
`,
  );
  const webhook = new Webhook(secret);
  const send = async (n: number): Promise<number> => {
    const id = `msg_${n}`;
    const body = JSON.stringify({ type: "order.created", n });
    const now = new Date();
    try {
      const response = await fetch(`http://127.0.0.1:${port}/webhooks/orders`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": webhook.sign(id, now, body) },
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0; // the connection died with the process
    }
  };
  const waitForServer = async (): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      try {
        await (await fetch(`http://127.0.0.1:${port}/health`)).arrayBuffer();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error("junction run did not start");
  };

  // 1. Receive only (the `store` integration does not run), and die with requests in flight.
  const receiver = spawnCli(["run", "junction.yaml", "-i", "keep_alive", "--no-progress"], { cwd: dir.path });
  const exited = once(receiver, "exit");
  // Whatever fails, no child outlives the test (it would keep the test process waiting).
  const children = [receiver];
  t.after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  await waitForServer();
  const statuses = new Array<number>(EVENTS).fill(-1);
  let answered = 0;
  let next = 0;
  const senders = Array.from({ length: 16 }, async () => {
    while (next < EVENTS) {
      const n = next++;
      statuses[n] = await send(n);
      if (++answered === EVENTS / 2) receiver.kill("SIGKILL");
    }
  });
  await Promise.all(senders);
  await exited;
  const acknowledged = statuses.flatMap((status, n) => (status === 200 ? [n] : []));
  assert.ok(acknowledged.length >= EVENTS / 2 - 16, `most requests before the kill were answered (${acknowledged.length})`);
  assert.ok(acknowledged.length < EVENTS, "the kill cut some requests off");
  assert.ok(statuses.every((status) => status === 200 || status === 0), `only 200 or a dropped connection: ${[...new Set(statuses)].join(", ")}`);

  // 2. The integration drains the inbox: every acknowledged webhook is there.
  const drained = await runCli(["run", "junction.yaml", "--once", "-i", "store", "--no-admin"], { cwd: dir.path });
  assert.equal(drained.code, 0, drained.stderr);
  const stored = (): number[] => {
    const db = openSqlite(join(dir.path, "events.db"), { readonly: true });
    try {
      return (db.prepare("SELECT n FROM orders ORDER BY n").all() as Array<{ n: number }>).map((row) => row.n);
    } finally {
      db.close();
    }
  };
  const afterCrash = new Set(stored());
  assert.deepEqual(acknowledged.filter((n) => !afterCrash.has(n)), [], "no acknowledged webhook was lost");

  // 3. The sender retries everything it did not see acknowledged — and, to be sure, the acknowledged ones too.
  const second = spawnCli(["run", "junction.yaml", "-i", "keep_alive", "--no-progress"], { cwd: dir.path });
  children.push(second);
  const secondExited = once(second, "exit");
  await waitForServer();
  const retried = await Promise.all(Array.from({ length: EVENTS }, (_, n) => send(n)));
  second.kill("SIGTERM");
  await secondExited;
  assert.ok(retried.every((status) => status === 200));
  const again = await runCli(["run", "junction.yaml", "--once", "-i", "store", "--no-admin", "--json"], { cwd: dir.path });
  assert.equal(again.code, 0, again.stderr);
  const run = (JSON.parse(again.stdout) as { runs: Array<{ counts: { read: number } }> }).runs[0];
  assert.equal(run?.counts.read, EVENTS - afterCrash.size, "only the webhooks not stored before were stored now: the repeats were duplicates");
  assert.deepEqual(stored(), Array.from({ length: EVENTS }, (_, n) => n));
});
