// @needs-service postgres
// @slow
// PostgreSQL change data capture through the real CLI into a `mode: merge` target:
// 10,000 random inserts, updates and deletes in multi-statement transactions end with a
// target equal to the source, every key's changes written in commit order; and a run
// SIGKILLed mid-stream delivers again only the unacknowledged tail when restarted.
// A private cluster (wal_level = logical) takes the load and the kill.
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { logicalServer } from "../connectors/postgres/cdc-fixture.js";
import type { LogicalServer } from "../connectors/postgres/cdc-fixture.js";
import { runCli, spawnCli } from "../support/cli.js";
import { privatePostgresSkipReason } from "../support/private-postgres.js";
import type { PrivatePostgres } from "../support/private-postgres.js";
import { tempDir } from "../support/temp-dir.js";

const CHANGES = 10_000;
const KEYS = 1_500;
const MAX_STATEMENTS_PER_TRANSACTION = 20;
const SOURCE_BATCH = 100;
const CONCURRENCY = 2;

const SOURCE_COLUMNS = "id int PRIMARY KEY, version bigint NOT NULL, name text, amount numeric(12,2), ts timestamptz, doc jsonb, data bytea";
// The same expression on both sides: every source column's text, in id order.
const checksum = (table: string) =>
  `SELECT count(*)::int AS rows, md5(coalesce(string_agg(row(id, version, name, amount, ts, doc, data)::text, ',' ORDER BY id), '')) AS sum FROM ${table}`;

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ["plain", `quote ' and " double`, "comma, and\nnewline", "unicode é ✓ 😀", "back\\slash", null];

/**
 * Writes `changes` random row changes to `table` from one session, in transactions of 1–20
 * statements. Versions come from one counter, so a key's versions grow in commit order.
 */
async function generateChanges(client: pg.Client, table: string, changes: number, seed: number): Promise<{ transactions: number }> {
  const next = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
  const literal = (value: string | null): string => (value === null ? "NULL" : client.escapeLiteral(value));
  const existing = new Set<number>();
  let version = 0;
  let written = 0;
  let transactions = 0;
  const values = (): string => {
    const micros = String(Math.floor(next() * 1_000_000)).padStart(6, "0");
    const ts = `2024-03-${String(1 + Math.floor(next() * 28)).padStart(2, "0")} ${String(Math.floor(next() * 24)).padStart(2, "0")}:17:42.${micros}+00`;
    const doc = JSON.stringify({ n: Math.floor(next() * 1e9), tags: [pick(["a", "b", "c"]), "x"], nested: { ok: next() < 0.5, half: Math.floor(next() * 10) + 0.5 } });
    const data = next() < 0.2 ? "NULL" : `'\\x${Buffer.from([Math.floor(next() * 256), 0, Math.floor(next() * 256)]).toString("hex")}'`;
    return `${literal(pick(NAMES))}, ${(next() * 1e6).toFixed(2)}, '${ts}', ${literal(doc)}, ${data}`;
  };
  while (written < changes) {
    const statements: string[] = [];
    const size = Math.min(changes - written, 1 + Math.floor(next() * MAX_STATEMENTS_PER_TRANSACTION));
    for (let i = 0; i < size; i++) {
      const id = 1 + Math.floor(next() * KEYS);
      version += 1;
      if (!existing.has(id)) {
        existing.add(id);
        statements.push(`INSERT INTO ${table} VALUES (${id}, ${version}, ${values()})`);
      } else if (next() < 0.75) {
        statements.push(`UPDATE ${table} SET (version, name, amount, ts, doc, data) = (${version}, ${values()}) WHERE id = ${id}`);
      } else {
        existing.delete(id);
        statements.push(`DELETE FROM ${table} WHERE id = ${id}`);
      }
    }
    await client.query(`BEGIN; ${statements.join("; ")}; COMMIT`);
    written += size;
    transactions += 1;
  }
  return { transactions };
}

interface Pair {
  name: string;
  table: string;
  dir: { path: string; remove(): void };
}

describe("postgres cdc through the CLI into a merge target", { skip: privatePostgresSkipReason() }, () => {
  let server: LogicalServer & { private?: PrivatePostgres };
  const urlFor = (database: string): string => (server.private as PrivatePostgres).urlFor(database);
  let source: pg.Client;
  let target: pg.Client;
  const pairs: Pair[] = [];

  before(async () => {
    server = await logicalServer({ privateAlways: true, databases: ["app", "warehouse"] });
    // Commits are flushed at once (the private cluster runs with synchronous_commit = off): a once run reads what was flushed when it started.
    source = new pg.Client({ connectionString: urlFor("app"), options: "-c TimeZone=UTC -c synchronous_commit=on" });
    target = new pg.Client({ connectionString: urlFor("warehouse"), options: "-c TimeZone=UTC" });
    await source.connect();
    await target.connect();
  });

  after(async () => {
    for (const pair of pairs) {
      await source?.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [pair.name]).catch(() => undefined);
      await source?.query(`DROP PUBLICATION IF EXISTS "${pair.name}"`).catch(() => undefined);
      pair.dir.remove();
    }
    await source?.end();
    await target?.end();
    await server?.stop();
  });

  /** A source table, its target twin with an append log of every write (a trigger), and a config in a fresh directory. */
  async function setUpPair(name: string): Promise<Pair> {
    const pair: Pair = { name, table: name, dir: tempDir() };
    pairs.push(pair);
    await source.query(`CREATE TABLE ${name} (${SOURCE_COLUMNS})`);
    await target.query(`CREATE TABLE ${name} (${SOURCE_COLUMNS}, _lsn text NOT NULL)`);
    await target.query(`CREATE TABLE ${name}_log (seq bigserial PRIMARY KEY, id int NOT NULL, version bigint NOT NULL, lsn text NOT NULL, op char(1) NOT NULL)`);
    await target.query(`CREATE FUNCTION ${name}_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          INSERT INTO ${name}_log (id, version, lsn, op) VALUES (OLD.id, OLD.version, OLD._lsn, 'D');
          RETURN OLD;
        END IF;
        INSERT INTO ${name}_log (id, version, lsn, op) VALUES (NEW.id, NEW.version, NEW._lsn, left(TG_OP, 1));
        RETURN NEW;
      END $$`);
    await target.query(`CREATE TRIGGER ${name}_log AFTER INSERT OR UPDATE OR DELETE ON ${name} FOR EACH ROW EXECUTE FUNCTION ${name}_log_write()`);
    writeFileSync(
      join(pair.dir.path, "junction.yaml"),
      `version: 1
name: postgres-cdc
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
connections:
  app: { type: postgres, url: "${urlFor("app")}" }
  warehouse: { type: postgres, url: "${urlFor("warehouse")}" }
integrations:
  ${name}:
    source: { connection: app, table: ${name}, key: id, mode: cdc, slot: ${name}, publication: ${name}, batch_size: ${SOURCE_BATCH}, heartbeat_interval: 1s }
    transform:
      # The commit LSN travels into the target, so the test can tell which run wrote what.
      - map: '$message.metadata.operation = "delete" ? $ : $merge([$, {"_lsn": $message.metadata.lsn}])'
    target: { connection: warehouse, table: ${name}, key: id, mode: merge }
    sync: { trigger: continuous, batch_size: 200, batch_period: 50ms, concurrency: ${CONCURRENCY} }
`,
    );
    return pair;
  }

  async function runOnce(pair: Pair): Promise<{ read: number; written: number; deadLettered: number }> {
    const result = await runCli(["run", "junction.yaml", "--once", "--json"], { cwd: pair.dir.path, timeoutMs: 120_000 });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const summary = JSON.parse(result.stdout) as { ok: boolean; runs: Array<{ counts: { read: number; written: number; deadLettered: number } }> };
    assert.equal(summary.ok, true, result.stdout);
    return (summary.runs[0] as { counts: { read: number; written: number; deadLettered: number } }).counts;
  }

  async function assertTargetEqualsSource(table: string): Promise<number> {
    const expected = (await source.query<{ rows: number; sum: string }>(checksum(table))).rows[0];
    const actual = (await target.query<{ rows: number; sum: string }>(checksum(table))).rows[0];
    assert.deepEqual(actual, expected);
    return expected?.rows ?? 0;
  }

  /** Writes in the log range (after, upTo] where a key's version went down: a change applied out of commit order. */
  async function outOfOrderWrites(table: string, after: number, upTo: number): Promise<number> {
    const sql = `SELECT count(*)::int AS n FROM (
        SELECT version, lag(version) OVER (PARTITION BY id ORDER BY seq) AS previous FROM ${table}_log WHERE seq > $1 AND seq <= $2
      ) AS writes WHERE version < previous`;
    return (await target.query<{ n: number }>(sql, [after, upTo])).rows[0]?.n ?? -1;
  }

  async function lastLogSeq(table: string): Promise<number> {
    return Number((await target.query<{ seq: string | null }>(`SELECT max(seq)::text AS seq FROM ${table}_log`)).rows[0]?.seq ?? 0);
  }

  test(`${CHANGES} random inserts, updates and deletes in transactions reach the target in commit order, and the target equals the source`, { timeout: 120_000 }, async (t) => {
    const pair = await setUpPair("cdc_mixed");
    // A publication and a slot made beforehand are used as they are; changes from here on are captured.
    await source.query(`CREATE PUBLICATION "${pair.name}" FOR TABLE ${pair.table}`);
    await source.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [pair.name]);
    const { transactions } = await generateChanges(source, pair.table, CHANGES, 20240501);
    const walEnd = (await source.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn()::text AS lsn")).rows[0]?.lsn as string;
    const started = performance.now();
    const counts = await runOnce(pair);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(counts.read, CHANGES);
    assert.equal(counts.deadLettered, 0);
    const rows = await assertTargetEqualsSource(pair.table);
    const logged = await lastLogSeq(pair.table);
    assert.equal(await outOfOrderWrites(pair.table, 0, logged), 0);
    // The run acknowledged everything it read: the slot is past the last commit.
    const slot = (await source.query<{ confirmed: string; past: boolean }>("SELECT confirmed_flush_lsn::text AS confirmed, confirmed_flush_lsn >= $2::pg_lsn AS past FROM pg_replication_slots WHERE slot_name = $1", [pair.name, walEnd])).rows[0];
    assert.equal(slot?.past, true, `slot confirmed ${slot?.confirmed}, last commit before ${walEnd}`);
    t.diagnostic(`${CHANGES} changes in ${transactions} transactions, one CLI run of ${seconds.toFixed(1)}s (process start included); ${rows} rows at the end; ${logged} row writes logged at the target; slot confirmed ${slot?.confirmed}`);
  });

  test("SIGKILL mid-stream: the restarted run delivers only the unacknowledged tail again, and the target equals the source", { timeout: 120_000 }, async (t) => {
    const pair = await setUpPair("cdc_killed");
    const child = spawnCli(["run", "junction.yaml"], { cwd: pair.dir.path });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit");
    let finished = false;
    void exited.then(() => (finished = true));
    // Whatever fails below, the child must not outlive the test (it would keep the test process, and CI, waiting).
    t.after(() => {
      if (!finished) child.kill("SIGKILL");
    });
    const deadline = Date.now() + 60_000;
    const slotActive = async () => (await source.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active", [pair.name])).rowCount === 1;
    let streaming = false;
    while (!finished && Date.now() < deadline && !streaming) {
      streaming = await slotActive();
      if (!streaming) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Seen active once is enough: the slot can be released for a moment while the run (re)connects.
    assert.ok(!finished && streaming, `the continuous run did not start streaming: ${stderr}`);

    const generating = generateChanges(source, pair.table, CHANGES, 7);
    const killAfter = 1_500 + Math.floor(Math.random() * 3_000);
    while (!finished && Date.now() < deadline && (await lastLogSeq(pair.table)) < killAfter) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(!finished, `the run ended before it could be killed: ${stderr}`);
    child.kill("SIGKILL");
    await exited;
    // Nothing reads the slot now: this is what the server knows was acknowledged.
    const confirmed = (await source.query<{ lsn: string }>("SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1", [pair.name])).rows[0]?.lsn as string;
    const killedAt = await lastLogSeq(pair.table);
    await generating;

    const counts = await runOnce(pair);
    assert.equal(counts.deadLettered, 0);
    const rows = await assertTargetEqualsSource(pair.table);
    const end = await lastLogSeq(pair.table);
    assert.equal(await outOfOrderWrites(pair.table, 0, killedAt), 0, "first run: a key's changes out of commit order");
    assert.equal(await outOfOrderWrites(pair.table, killedAt, end), 0, "restarted run: a key's changes out of commit order");

    // Row writes of the restarted run (deletes leave no lsn of their own: the log holds the deleted row's).
    const restarted = (
      await target.query<{ writes: number; redelivered: number; below: number }>(
        `SELECT count(*)::int AS writes,
                count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ${pair.table}_log AS first WHERE first.seq <= $1 AND first.op <> 'D' AND first.id = w.id AND first.version = w.version))::int AS redelivered,
                count(*) FILTER (WHERE w.lsn::pg_lsn < $2::pg_lsn)::int AS below
         FROM ${pair.table}_log AS w WHERE w.seq > $1 AND w.op <> 'D'`,
        [killedAt, confirmed],
      )
    ).rows[0] as { writes: number; redelivered: number; below: number };
    // Every change the restarted run wrote committed at or after the position the slot had confirmed.
    assert.equal(restarted.below, 0);
    // In flight at most: the runner's unacknowledged source batches ((concurrency × 4 + 4) × batch size),
    // plus the acked part of a transaction whose commit was not acknowledged yet.
    const bound = (CONCURRENCY * 4 + 4) * SOURCE_BATCH + MAX_STATEMENTS_PER_TRANSACTION;
    assert.ok(restarted.redelivered <= bound, `${restarted.redelivered} changes delivered twice, more than the ${bound} that can be in flight`);
    t.diagnostic(
      `killed after ${killedAt} logged writes (slot confirmed ${confirmed}); the restart read ${counts.read} changes and wrote ${restarted.writes} rows, ${restarted.redelivered} of them written before the kill (bound ${bound}); ${rows} rows at the end`,
    );
  });
});
