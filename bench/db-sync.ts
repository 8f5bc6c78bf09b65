// Database sync throughput through Junction's postgres and mysql connectors, against two
// baselines measured in the same run:
//   (a) the physical limit: COPY (SELECT …) TO STDOUT piped into COPY … FROM STDIN
//       between two PostgreSQL databases (pg-copy-streams);
//   (b) a naive loop: one autocommitted INSERT … ON CONFLICT DO UPDATE per row, on a
//       sample of BENCH_NAIVE_ROWS rows, extrapolated as rows/s.
// Cases: PostgreSQL → PostgreSQL full refresh; PostgreSQL → PostgreSQL incremental upsert of
// 10 % changed rows; PostgreSQL → MariaDB full refresh. Each Junction case runs in a child
// process, so its peak RSS is its own.
//
//   node --import tsx bench/db-sync.ts   (BENCH_ROWS=1000000 BENCH_BATCH=500 BENCH_CONCURRENCY=4 BENCH_NAIVE_ROWS=20000)
//
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and MariaDB/MySQL on 127.0.0.1:3306
// (user root); BENCH_PG_URL / BENCH_MYSQL_URL override the server URLs (no database part).
// Creates the databases junction_bench_src, junction_bench_dst (PostgreSQL) and
// junction_bench (MySQL), and drops them at the end.
import { spawn } from "node:child_process";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { loadConfigFromString } from "../src/config/index.js";
import { builtinComponents } from "../src/engine/components.js";
import type { RunSummary } from "../src/engine/runner.js";
import { JunctionRuntime } from "../src/engine/runtime.js";
import { createLogger } from "../src/observability/logger.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const NAIVE_ROWS = Math.min(ROWS, Number(process.env.BENCH_NAIVE_ROWS ?? 20_000));
const PG_SERVER = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432";
const MYSQL_SERVER = process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const SRC_DB = "junction_bench_src";
const DST_DB = "junction_bench_dst";
const MYSQL_DB = "junction_bench";
const CHILD_CASE = process.env.BENCH_DB_SYNC_CASE;

const COLUMNS = "id, updated_at, name, category, price, quantity, description, attrs";
const pgTable = (name: string): string => `CREATE TABLE ${name} (
  id bigint PRIMARY KEY,
  updated_at timestamptz NOT NULL,
  name text NOT NULL,
  category text NOT NULL,
  price numeric(12,2) NOT NULL,
  quantity integer NOT NULL,
  description text NOT NULL,
  attrs jsonb NOT NULL
)`;
const MYSQL_TABLE = `CREATE TABLE items (
  id BIGINT PRIMARY KEY,
  updated_at DATETIME(6) NOT NULL,
  name VARCHAR(64) NOT NULL,
  category VARCHAR(32) NOT NULL,
  price DECIMAL(12,2) NOT NULL,
  quantity INT NOT NULL,
  description TEXT NOT NULL,
  attrs JSON NOT NULL
) CHARACTER SET utf8mb4`;

interface CaseResult {
  label: string;
  rows: number;
  seconds: number;
  /** Junction cases only, bytes: the child's peak, and its RSS with the runtime open before the run. */
  peakRss?: number;
  idleRss?: number;
  /** Junction cases only: CPU time of the Junction process during the run (user + system). */
  cpuSeconds?: number;
  note?: string;
}

const pgUrl = (database: string): string => `${PG_SERVER}/${database}`;

async function withPg<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl(database) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function withMysql<T>(database: string | undefined, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: database ? `${MYSQL_SERVER}/${database}` : MYSQL_SERVER });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function count(database: string, table: string): Promise<number> {
  return withPg(database, async (client) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
}

// ---------------------------------------------------------------- setup and teardown

async function dropDatabases(): Promise<void> {
  await withPg("postgres", async (client) => {
    for (const database of [SRC_DB, DST_DB]) await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });
  await withMysql(undefined, async (connection) => {
    await connection.query(`DROP DATABASE IF EXISTS ${MYSQL_DB}`);
  });
}

async function setUp(): Promise<number> {
  await dropDatabases();
  await withPg("postgres", async (client) => {
    for (const database of [SRC_DB, DST_DB]) await client.query(`CREATE DATABASE ${database}`);
  });
  const averageBytes = await withPg(SRC_DB, async (client) => {
    await client.query(pgTable("items"));
    // ~200 bytes a row: distinct timestamps (1 ms apart), a 64-character description, a short jsonb.
    await client.query(
      `INSERT INTO items (${COLUMNS})
       SELECT g,
              timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond',
              'item-' || g,
              (ARRAY['tools','garden','kitchen','toys','books'])[g % 5 + 1],
              round((g % 100000) / 100.0, 2),
              g % 1000,
              md5(g::text) || md5((g + 1)::text),
              jsonb_build_object('color', (ARRAY['red','green','blue'])[g % 3 + 1], 'size', g % 10, 'tags', jsonb_build_array('a', 'b'))
       FROM generate_series(1, $1::bigint) AS g`,
      [ROWS],
    );
    await client.query("CREATE INDEX items_updated_at_id ON items (updated_at, id)");
    await client.query("VACUUM ANALYZE items");
    const bytes = await client.query("SELECT avg(pg_column_size(items.*))::int AS b FROM items");
    return Number(bytes.rows[0].b);
  });
  await withPg(DST_DB, async (client) => {
    for (const table of ["items", "items_inc", "items_copy", "items_naive"]) await client.query(pgTable(table));
  });
  await withMysql(undefined, async (connection) => {
    await connection.query(`CREATE DATABASE ${MYSQL_DB}`);
    await connection.query(`USE ${MYSQL_DB}`);
    await connection.query(MYSQL_TABLE);
    await connection.query(MYSQL_TABLE.replace("CREATE TABLE items", "CREATE TABLE items_naive"));
  });
  return averageBytes;
}

// ---------------------------------------------------------------- baselines

async function copyPipe(): Promise<CaseResult> {
  const source = new pg.Client({ connectionString: pgUrl(SRC_DB) });
  const target = new pg.Client({ connectionString: pgUrl(DST_DB) });
  await source.connect();
  await target.connect();
  try {
    const started = performance.now();
    const out = source.query(copyTo(`COPY (SELECT ${COLUMNS} FROM items) TO STDOUT`));
    const into = target.query(copyFrom(`COPY items_copy (${COLUMNS}) FROM STDIN`));
    await pipeline(out, into);
    const seconds = (performance.now() - started) / 1000;
    const copied = await count(DST_DB, "items_copy");
    if (copied !== ROWS) throw new Error(`COPY pipe copied ${copied} rows, expected ${ROWS}`);
    return { label: "(a) COPY pipe PG → PG", rows: ROWS, seconds };
  } finally {
    await source.end();
    await target.end();
  }
}

async function sampleRows(): Promise<Array<Record<string, unknown>>> {
  return withPg(SRC_DB, async (client) => (await client.query(`SELECT ${COLUMNS} FROM items ORDER BY id LIMIT $1`, [NAIVE_ROWS])).rows);
}

/** What someone would write first: read the rows, then one autocommitted upsert per row. */
async function naivePostgres(): Promise<CaseResult> {
  return withPg(DST_DB, async (client) => {
    const started = performance.now();
    const rows = await sampleRows();
    for (const row of rows) {
      await client.query(
        `INSERT INTO items_naive (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at, name = EXCLUDED.name, category = EXCLUDED.category,
           price = EXCLUDED.price, quantity = EXCLUDED.quantity, description = EXCLUDED.description, attrs = EXCLUDED.attrs`,
        [row.id, row.updated_at, row.name, row.category, row.price, row.quantity, row.description, JSON.stringify(row.attrs)],
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return { label: "(b) naive loop PG → PG", rows: rows.length, seconds, note: "sample, extrapolated" };
  });
}

async function naiveMysql(): Promise<CaseResult> {
  return withMysql(MYSQL_DB, async (connection) => {
    const started = performance.now();
    const rows = await sampleRows();
    for (const row of rows) {
      await connection.execute(
        `INSERT INTO items_naive (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at), name = VALUES(name), category = VALUES(category),
           price = VALUES(price), quantity = VALUES(quantity), description = VALUES(description), attrs = VALUES(attrs)`,
        [
          String(row.id),
          (row.updated_at as Date).toISOString().replace("T", " ").replace("Z", ""),
          String(row.name),
          String(row.category),
          String(row.price),
          Number(row.quantity),
          String(row.description),
          JSON.stringify(row.attrs),
        ],
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return { label: "(b′) naive loop PG → MariaDB", rows: rows.length, seconds, note: "sample, extrapolated" };
  });
}

// ---------------------------------------------------------------- Junction cases (child processes)

type JunctionCase = "pg-full" | "pg-incremental" | "mysql-full";

function junctionConfig(kind: JunctionCase): string {
  const incremental = kind === "pg-incremental";
  const source = incremental ? "{ connection: src, table: items, key: id, cursor: updated_at, mode: incremental }" : "{ connection: src, table: items, key: id, mode: full_refresh }";
  const target = kind === "mysql-full" ? "{ connection: dst, table: items, key: id, mode: upsert }" : `{ connection: dst, table: ${incremental ? "items_inc" : "items"}, key: id, mode: upsert }`;
  const dst = kind === "mysql-full" ? `{ type: mysql, url: "${MYSQL_SERVER}/${MYSQL_DB}" }` : `{ type: postgres, url: "${pgUrl(DST_DB)}" }`;
  return `version: 1
name: bench-db-sync
state: "sqlite::memory:"
admin: false
connections:
  src: { type: postgres, url: "${pgUrl(SRC_DB)}" }
  dst: ${dst}
integrations:
  sync:
    source: ${source}
    target: ${target}
    sync: { trigger: once, batch_size: ${BATCH}, concurrency: ${CONCURRENCY} }
`;
}

/**
 * One pass of the integration. The first goes through `run`; later ones through
 * `runIntegration`, because `run` registers the connections' health checks again and a
 * second call on one runtime throws.
 */
async function runOnce(runtime: JunctionRuntime, expected: number, first: boolean): Promise<{ seconds: number; cpuSeconds: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let summary: RunSummary | undefined;
  let errors: string[] = [];
  if (first) {
    const result = await runtime.run({ once: true });
    summary = result.summaries[0];
    errors = result.errors;
  } else {
    const [integration] = runtime.selectIntegrations();
    if (integration) summary = await runtime.runIntegration(integration, { follow: false, trigger: "once" });
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const written = summary?.run.counts.written;
  if (summary?.status === "failed" || written !== expected) throw new Error(`junction wrote ${written} of ${expected}: ${[...errors, summary?.error ?? ""].join("; ")}`);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Runs one Junction case in this (child) process; prints its result as one JSON line. */
async function childCase(kind: JunctionCase): Promise<void> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const loaded = await loadConfigFromString(junctionConfig(kind), "<inline>", builtinComponents, { env: {} });
  const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
  // The floor: modules loaded (through tsx) and the runtime open, before any row is read.
  const idleRss = process.memoryUsage().rss;
  const results: CaseResult[] = [];
  try {
    if (kind === "pg-incremental") {
      results.push({ label: "initial incremental load PG → PG", rows: ROWS, ...(await runOnce(runtime, ROWS, true)) });
      const changed = await withPg(SRC_DB, async (client) => {
        const updated = await client.query("UPDATE items SET updated_at = now() + id * interval '1 microsecond', quantity = quantity + 1 WHERE id % 10 = 0");
        await client.query("ANALYZE items");
        return updated.rowCount ?? 0;
      });
      results.push({ label: "2. incremental upsert PG → PG", rows: changed, ...(await runOnce(runtime, changed, false)) });
    } else {
      const label = kind === "pg-full" ? "1. full refresh PG → PG" : "3. full refresh PG → MariaDB";
      results.push({ label, rows: ROWS, ...(await runOnce(runtime, ROWS, true)) });
    }
  } finally {
    await runtime.close();
    clearInterval(sampler);
  }
  // maxRSS is the kernel's high-water mark (KiB), so a spike between samples is not missed.
  const peak = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  process.stdout.write(`${JSON.stringify(results.map((result) => ({ ...result, peakRss: peak, idleRss })))}\n`);
}

function runChild(kind: JunctionCase): Promise<CaseResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_DB_SYNC_CASE: kind },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`case ${kind} exited with ${code}`));
      const line = output.trim().split("\n").at(-1) ?? "[]";
      resolve(JSON.parse(line) as CaseResult[]);
    });
  });
}

async function verify(): Promise<void> {
  const checksum = "SELECT count(*) AS n, sum(quantity) AS q, max(updated_at) AS t FROM ";
  const [source, full, incremental] = await Promise.all([
    withPg(SRC_DB, async (c) => (await c.query(`${checksum} items`)).rows[0]),
    withPg(DST_DB, async (c) => (await c.query(`${checksum} items`)).rows[0]),
    withPg(DST_DB, async (c) => (await c.query(`${checksum} items_inc`)).rows[0]),
  ]);
  if (JSON.stringify(source) !== JSON.stringify(incremental)) throw new Error(`incremental target differs from source: ${JSON.stringify({ source, incremental })}`);
  if (Number(full.n) !== ROWS) throw new Error(`full refresh target has ${full.n} rows`);
  const mysqlRows = await withMysql(MYSQL_DB, async (connection) => {
    const [rows] = await connection.query("SELECT count(*) AS n FROM items");
    return Number((rows as Array<{ n: number }>)[0]?.n);
  });
  if (mysqlRows !== ROWS) throw new Error(`MariaDB target has ${mysqlRows} rows`);
}

// ---------------------------------------------------------------- report

const rate = (result: CaseResult): number => result.rows / result.seconds;
const int = (value: number): string => Math.round(value).toLocaleString("en-US");
const mb = (bytes: number | undefined): string => (bytes === undefined ? "—" : `${Math.round(bytes / (1024 * 1024))} MB`);

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`db-sync: ${int(ROWS)} rows, Junction batch ${BATCH}, concurrency ${CONCURRENCY}, Node ${process.version}`);
  try {
    const averageBytes = await setUp();
    console.log(`  source ready: ${int(ROWS)} rows, ${averageBytes} bytes a row on average (pg_column_size)`);
    const copy = await copyPipe();
    console.log(`  (a) COPY pipe: ${copy.seconds.toFixed(1)} s`);
    const naive = await naivePostgres();
    console.log(`  (b) naive loop PG: ${naive.rows} rows in ${naive.seconds.toFixed(1)} s`);
    const naiveMy = await naiveMysql();
    console.log(`  (b′) naive loop MariaDB: ${naiveMy.rows} rows in ${naiveMy.seconds.toFixed(1)} s`);
    const cases: CaseResult[] = [];
    for (const kind of ["pg-full", "pg-incremental", "mysql-full"] as const) {
      const results = await runChild(kind);
      for (const result of results) console.log(`  ${result.label}: ${result.seconds.toFixed(1)} s, Junction process CPU ${result.cpuSeconds?.toFixed(1)} s`);
      cases.push(...results);
    }
    await verify();

    console.log(`\n| case | rows | seconds | rows/s | ÷ COPY pipe | ÷ naive loop | peak RSS |`);
    console.log(`|---|---|---|---|---|---|---|`);
    for (const result of [copy, naive, naiveMy]) {
      const rows = result.note ? `${int(result.rows)} (${result.note})` : int(result.rows);
      console.log(`| ${result.label} | ${rows} | ${result.seconds.toFixed(1)} | ${int(rate(result))} | ${(rate(result) / rate(copy)).toFixed(2)} | ${(rate(result) / rate(naive)).toFixed(1)} | — |`);
    }
    for (const result of cases) {
      const naiveFor = result.label.includes("MariaDB") ? naiveMy : naive;
      const naiveRatio = `${(rate(result) / rate(naiveFor)).toFixed(1)}${naiveFor === naiveMy ? " (b′)" : ""}`;
      console.log(`| ${result.label} | ${int(result.rows)} | ${result.seconds.toFixed(1)} | ${int(rate(result))} | ${(rate(result) / rate(copy)).toFixed(2)} | ${naiveRatio} | ${mb(result.peakRss)} (idle ${mb(result.idleRss)}) |`);
    }
    const full = cases.find((result) => result.label.startsWith("1."));
    if (full) {
      console.log(
        `\naims (full refresh PG → PG): ≥ 0.6 × COPY pipe: ${(rate(full) / rate(copy)).toFixed(2)}; ≥ 20 × naive loop: ${(rate(full) / rate(naive)).toFixed(1)}; ` +
          `peak RSS < 256 MB: ${Math.max(...cases.map((result) => result.peakRss ?? 0)) < 256 * 1024 * 1024 ? "yes" : "no"} (largest of the Junction cases)`,
      );
    }
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await dropDatabases();
  }
}

if (CHILD_CASE === undefined) await main();
else await childCase(CHILD_CASE as JunctionCase);
