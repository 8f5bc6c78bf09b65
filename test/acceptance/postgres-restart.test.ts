// @needs-service postgres
// @slow
// The source PostgreSQL restarts (pg_ctl restart -m fast) while an incremental sync of
// 100,000 rows runs: the run recovers from its checkpoint or fails cleanly, and the next
// run completes with exactly the source's ids in the target. A private cluster takes the
// restart, never the shared test instance.
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { openSqlite } from "../../src/state/sqlite/sqlite-driver.js";
import { runCli, spawnCli } from "../support/cli.js";
import { privatePostgresSkipReason, startPrivatePostgres } from "../support/private-postgres.js";
import type { PrivatePostgres } from "../support/private-postgres.js";
import { tempDir } from "../support/temp-dir.js";

const ROWS = 100_000;

interface TargetStats {
  rows: number;
  keys: number;
  ids: number;
}

function targetStats(path: string): TargetStats {
  if (!existsSync(path)) return { rows: 0, keys: 0, ids: 0 };
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 1000");
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (!table) return { rows: 0, keys: 0, ids: 0 };
    return db.prepare("SELECT count(*) AS rows, count(DISTINCT id) AS keys, coalesce(sum(id), 0) AS ids FROM events").get() as unknown as TargetStats;
  } finally {
    db.close();
  }
}

/** Every stderr line of `run --json` is a JSON log record: no stack trace, no stray text. */
function nonJsonLines(stderr: string): string[] {
  return stderr
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
}

describe("postgres source restarted during a sync", { skip: privatePostgresSkipReason() }, () => {
  const dir = tempDir();
  let server: PrivatePostgres;

  before(async () => {
    server = await startPrivatePostgres({ databases: ["app"] });
  });
  after(async () => {
    await server?.destroy();
    dir.remove();
  });

  test(`a restart mid-run loses and duplicates none of ${ROWS} rows`, { timeout: 600_000 }, async (t) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query("CREATE TABLE events (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, name text NOT NULL)");
      // ~100 rows per updated_at, so pages end inside ties.
      await admin.query(
        `INSERT INTO events
         SELECT i, timestamptz '2024-03-01 00:00:00+00' + ((i * 7919) % 1000) * interval '1 millisecond', 'event ' || i
         FROM generate_series(1, $1::int) AS i`,
        [ROWS],
      );
    } finally {
      await admin.end();
    }

    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
name: postgres-restart
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
connections:
  app: { type: postgres, url: "${server.url}", pool_size: 4 }
  target: { type: sqlite, path: ./target.db }
integrations:
  events_copy:
    source: { connection: app, table: events, key: id, cursor: updated_at, batch_size: 500 }
    target: { connection: target, table: events, mode: upsert, key: id, create_table: true }
    sync: { trigger: once, batch_size: 500 }
    resilience:
      retry: { attempts: 8, backoff: exponential, base_delay: 250ms, max_delay: 2s, jitter: full }
`,
    );
    const targetPath = join(dir.path, "target.db");

    const restartAfter = 10_000 + Math.floor(Math.random() * 40_000);
    const child = spawnCli(["run", "junction.yaml", "--once", "--json"], { cwd: dir.path });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let finished = false;
    void exited.then(() => (finished = true));
    const killer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    try {
      while (!finished && targetStats(targetPath).rows < restartAfter) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.ok(!finished, `the run ended before the restart (at ${targetStats(targetPath).rows} rows): ${stderr}`);
      const restartedAt = targetStats(targetPath).rows;
      await server.restart();
      const [code, signal] = await exited;
      t.diagnostic(`restarted at ${restartedAt} rows; the run exited with ${code ?? signal} at ${targetStats(targetPath).rows} rows`);

      assert.equal(signal, null, `the run died of ${signal}: ${stderr}`);
      assert.deepEqual(nonJsonLines(stderr), [], "stderr holds only JSON log lines");
      const summary = JSON.parse(stdout) as { ok: boolean; errors: string[] };
      if (code === 0) {
        assert.equal(summary.ok, true, stdout);
        assert.match(stderr, /starting again from the checkpoint/, "a recovered run says it restarted");
      } else {
        assert.equal(code, 1, stdout);
        assert.equal(summary.ok, false);
        assert.ok(summary.errors.length > 0, stdout);
        for (const error of summary.errors) assert.match(error, /^events_copy: .*postgres/i, "the failure names the integration and the database");
      }
    } finally {
      clearTimeout(killer);
      if (!finished) child.kill("SIGKILL");
    }

    const next = await runCli(["run", "junction.yaml", "--once", "--json"], { cwd: dir.path, timeoutMs: 300_000 });
    assert.equal(next.code, 0, next.stderr);
    assert.equal((JSON.parse(next.stdout) as { ok: boolean }).ok, true, next.stdout);

    assert.deepEqual(targetStats(targetPath), { rows: ROWS, keys: ROWS, ids: (ROWS * (ROWS + 1)) / 2 });
    const dead = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
    assert.equal(dead.code, 0, dead.stderr);
    assert.deepEqual(JSON.parse(dead.stdout), []);
  });
});
