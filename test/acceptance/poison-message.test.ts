import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

function config(amount: string): string {
  return `version: 1
name: poison
admin: false
log: { level: warn }
connections:
  orders_file: { type: file, path: ./orders.jsonl }
  warehouse: { type: sqlite, path: ./warehouse.db }
integrations:
  orders:
    source: { connection: orders_file }
    transform:
      - map: '{ "id": id, "customer": customer, "amount": ${amount} }'
      - validate:
          schema:
            type: object
            required: [id, amount]
            properties:
              id: { type: integer }
              amount: { type: number, minimum: 0 }
    target: { connection: warehouse, table: orders, mode: upsert, key: id, create_table: true }
    sync: { batch_size: 1000 }
`;
}

function count(): number {
  const db = openSqlite(join(dir.path, "warehouse.db"), { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM orders").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test("one invalid record among 10,000: 9,999 written, 1 dead letter; replay after fixing the mapping writes it", { timeout: 180_000 }, async () => {
  const lines: string[] = [];
  for (let i = 1; i <= 10_000; i++) lines.push(JSON.stringify({ id: i, customer: `c${i % 97}`, amount: i === 4321 ? "12,50" : i + 0.25 }));
  writeFileSync(join(dir.path, "orders.jsonl"), `${lines.join("\n")}\n`);
  // The first mapping forgets that some amounts arrive as text with a decimal comma.
  writeFileSync(join(dir.path, "junction.yaml"), config("amount"));

  const first = await runCli(["run", "--once", "--json"], { cwd: dir.path });
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout) as { runs: Array<{ status: string; counts: Record<string, number> }> };
  assert.equal(summary.runs[0]?.status, "partial");
  assert.equal(summary.runs[0]?.counts.written, 9_999);
  assert.equal(summary.runs[0]?.counts.deadLettered, 1);
  assert.equal(count(), 9_999);

  const listed = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
  const letters = JSON.parse(listed.stdout) as Array<{ id: string; stage: string; attempts: number; error: { kind: string; message: string }; message: { payload: { id: number; amount: string } } }>;
  assert.equal(letters.length, 1);
  const [letter] = letters;
  assert.equal(letter?.message.payload.id, 4321);
  assert.equal(letter?.message.payload.amount, "12,50", "the original message is kept, before the mapping");
  assert.equal(letter?.stage, "transform");
  assert.match(letter?.error.message ?? "", /validate/);
  assert.equal(letter?.error.kind, "permanent");
  assert.match(letter?.error.message ?? "", /amount/);
  assert.match(letter?.error.message ?? "", /number/);

  const shown = await runCli(["dlq", "show", letter?.id ?? ""], { cwd: dir.path });
  assert.equal(shown.code, 0);
  assert.match(shown.stdout, /12,50/);

  // Fix the mapping, then replay.
  writeFileSync(join(dir.path, "junction.yaml"), config('$type(amount) = "string" ? $number($replace(amount, ",", ".")) : amount'));
  const replay = await runCli(["dlq", "replay", letter?.id ?? ""], { cwd: dir.path });
  assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  assert.match(replay.stdout, /1 of 1 replayed/);
  assert.equal(count(), 10_000);
  const db = openSqlite(join(dir.path, "warehouse.db"), { readonly: true });
  assert.equal((db.prepare("SELECT amount FROM orders WHERE id = 4321").get() as { amount: number }).amount, 12.5);
  db.close();

  const pending = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
  assert.deepEqual(JSON.parse(pending.stdout), []);
  const replayed = await runCli(["dlq", "list", "--status", "replayed", "--json"], { cwd: dir.path });
  const after = JSON.parse(replayed.stdout) as Array<{ id: string; status: string; replayedAt: string }>;
  assert.equal(after.length, 1);
  assert.equal(after[0]?.status, "replayed");
  assert.ok(after[0]?.replayedAt);

  // Replaying it again is refused as already done, and a second run re-reads nothing.
  const again = await runCli(["run", "--once", "--json"], { cwd: dir.path });
  assert.equal((JSON.parse(again.stdout) as { runs: Array<{ counts: { read: number } }> }).runs[0]?.counts.read, 0);
});
