// @slow
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { runCli, spawnCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const RECORDS = 100_000;
const KILLS = 5;

const dir = tempDir();
after(() => dir.remove());

function countRows(path: string): number {
  if (!existsSync(path)) return 0;
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 1000");
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'").get();
    return table ? (db.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

test(`${RECORDS} JSONL records into a SQLite upsert survive ${KILLS} SIGKILLs with exactly ${RECORDS} keys`, { timeout: 600_000 }, async (t) => {
  const lines: string[] = [];
  for (let i = 1; i <= RECORDS; i++) lines.push(JSON.stringify({ id: i, name: `record ${i}`, value: i * 3 }));
  writeFileSync(join(dir.path, "input.jsonl"), `${lines.join("\n")}\n`);
  writeFileSync(
    join(dir.path, "junction.yaml"),
    `version: 1
name: crash-safety
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
connections:
  input: { type: file, path: ./input.jsonl, format: jsonl }
  target: { type: sqlite, path: ./target.db }
integrations:
  load:
    source: { connection: input, batch_size: 500 }
    transform:
      - map: '{ "id": id, "name": $uppercase(name), "value": value }'
    target: { connection: target, table: records, mode: upsert, key: id, create_table: true }
    sync: { trigger: once, batch_size: 500, concurrency: 4 }
`,
  );
  const target = join(dir.path, "target.db");
  const killedAt: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const startCount = countRows(target);
    // Kill after a random further 1,000–15,000 rows: always mid-run, never past the end.
    const killAfter = startCount + 1_000 + Math.floor(Math.random() * 14_000);
    const child = spawnCli(["run", "junction.yaml", "--once"], { cwd: dir.path });
    const exited = once(child, "exit");
    let finished = false;
    void exited.then(() => (finished = true));
    while (!finished && countRows(target) < killAfter) await new Promise((r) => setTimeout(r, 5));
    assert.ok(!finished, `run ${k + 1} finished before it could be killed (at ${countRows(target)} rows)`);
    child.kill("SIGKILL");
    await exited;
    killedAt.push(countRows(target));
  }
  t.diagnostic(`killed at ${killedAt.join(", ")} rows`);
  const final = await runCli(["run", "junction.yaml", "--once", "--json"], { cwd: dir.path, timeoutMs: 300_000 });
  assert.equal(final.code, 0, final.stderr);
  const db = openSqlite(target, { readonly: true });
  const stats = db.prepare("SELECT count(*) AS rows, count(DISTINCT id) AS keys, sum(id) AS ids, min(id) AS lo, max(id) AS hi, sum(value) AS vals FROM records").get() as Record<string, number>;
  const wrongNames = (db.prepare("SELECT count(*) AS n FROM records WHERE name <> 'RECORD ' || id").get() as { n: number }).n;
  db.close();
  assert.equal(stats.rows, RECORDS, `killed at ${killedAt.join(", ")} rows`);
  assert.equal(stats.keys, RECORDS);
  assert.equal(stats.lo, 1);
  assert.equal(stats.hi, RECORDS);
  assert.equal(stats.ids, (RECORDS * (RECORDS + 1)) / 2);
  assert.equal(stats.vals, (3 * RECORDS * (RECORDS + 1)) / 2);
  assert.equal(wrongNames, 0);
  const dead = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
  assert.deepEqual(JSON.parse(dead.stdout), []);
});
