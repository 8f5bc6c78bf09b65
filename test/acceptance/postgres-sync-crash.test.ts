// @needs-service postgres
// @slow
// An incremental PostgreSQL → PostgreSQL upsert, SIGKILLed at random points mid-run and
// restarted each time, ends with a target equal to its source, column for column.
// A private cluster keeps the load and the kills away from the shared test instance.
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { runCli, spawnCli } from "../support/cli.js";
import { privatePostgresSkipReason, startPrivatePostgres } from "../support/private-postgres.js";
import type { PrivatePostgres } from "../support/private-postgres.js";
import { tempDir } from "../support/temp-dir.js";

const ROWS = 60_000;
const KILLS = 3;

const COLUMNS = `id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, name text, amount numeric(12,2) NOT NULL, payload jsonb NOT NULL`;
// The same expression on both sides: every column's text, in id order.
const CHECKSUM = `SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY id)) AS sum FROM items AS t`;

describe("postgres incremental sync under SIGKILL", { skip: privatePostgresSkipReason() }, () => {
  const dir = tempDir();
  let server: PrivatePostgres;
  let source: pg.Client;
  let target: pg.Client;

  before(async () => {
    server = await startPrivatePostgres({ databases: ["app", "warehouse"] });
    source = new pg.Client({ connectionString: server.urlFor("app"), options: "-c TimeZone=UTC" });
    target = new pg.Client({ connectionString: server.urlFor("warehouse"), options: "-c TimeZone=UTC" });
    await source.connect();
    await target.connect();
  });
  after(async () => {
    await source?.end();
    await target?.end();
    await server?.destroy();
    dir.remove();
  });

  async function targetCount(): Promise<number> {
    return (await target.query<{ n: number }>("SELECT count(*)::int AS n FROM items")).rows[0]?.n ?? 0;
  }

  test(`${ROWS} rows with tied updated_at survive ${KILLS} SIGKILLs with an identical target`, { timeout: 600_000 }, async (t) => {
    await source.query(`CREATE TABLE items (${COLUMNS})`);
    // ~60 rows share each updated_at (with microseconds), in an order unlike id's, so
    // batches end inside ties; names carry what CSV COPY must quote; some are NULL.
    await source.query(
      `INSERT INTO items
       SELECT i,
              timestamptz '2024-03-01 00:00:00+00' + ((i * 7919) % 997) * interval '1.234567 second',
              CASE WHEN i % 101 = 0 THEN NULL ELSE 'item ' || i || E' "quoted", \\\\back\\nline é' END,
              round((i * 12.34) % 100000, 2),
              jsonb_build_object('n', i, 'tags', jsonb_build_array('a' || (i % 7), 'b'), 'nested', jsonb_build_object('ok', i % 2 = 0, 'half', (i % 5) + 0.5))
       FROM generate_series(1, $1::int) AS i`,
      [ROWS],
    );
    await target.query(`CREATE TABLE items (${COLUMNS})`);

    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
name: postgres-sync-crash
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
connections:
  app: { type: postgres, url: "${server.urlFor("app")}" }
  warehouse: { type: postgres, url: "${server.urlFor("warehouse")}" }
integrations:
  items_copy:
    source: { connection: app, table: items, key: id, cursor: updated_at, batch_size: 1000 }
    target: { connection: warehouse, table: items, mode: upsert, key: id }
    sync: { trigger: once, batch_size: 1000 }
`,
    );

    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const startCount = await targetCount();
      // A random further 2,000–15,000 rows: always mid-run (3 × 15,000 < 60,000).
      const killAfter = startCount + 2_000 + Math.floor(Math.random() * 13_000);
      const child = spawnCli(["run", "junction.yaml", "--once"], { cwd: dir.path });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = once(child, "exit");
      let finished = false;
      void exited.then(() => (finished = true));
      const deadline = Date.now() + 120_000;
      while (!finished && Date.now() < deadline && (await targetCount()) < killAfter) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(!finished, `run ${k + 1} ended before it could be killed (at ${await targetCount()} rows): ${stderr}`);
      child.kill("SIGKILL");
      await exited;
      killedAt.push(await targetCount());
    }
    t.diagnostic(`killed at ${killedAt.join(", ")} target rows`);

    const final = await runCli(["run", "junction.yaml", "--once", "--json"], { cwd: dir.path, timeoutMs: 300_000 });
    assert.equal(final.code, 0, final.stderr);
    assert.equal((JSON.parse(final.stdout) as { ok: boolean }).ok, true, final.stdout);

    const expected = (await source.query<{ rows: number; sum: string }>(CHECKSUM)).rows[0];
    const actual = (await target.query<{ rows: number; sum: string }>(CHECKSUM)).rows[0];
    assert.equal(expected?.rows, ROWS);
    assert.deepEqual(actual, expected, `killed at ${killedAt.join(", ")} rows`);

    const dead = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
    assert.equal(dead.code, 0, dead.stderr);
    assert.deepEqual(JSON.parse(dead.stdout), []);
  });
});
