// Database sync throughput through Junction's postgres and mysql connectors, against two
// baselines measured in the same run:
//   (a) the physical limit: COPY (SELECT …) TO STDOUT piped into COPY … FROM STDIN
//       between two PostgreSQL databases (pg-copy-streams);
//   (b) a naive loop: one autocommitted INSERT … ON CONFLICT DO UPDATE per row, on a
//       sample of BENCH_NAIVE_ROWS rows, extrapolated as rows/s.
// Cases: PostgreSQL → PostgreSQL full refresh, into an upsert target and into a replace
// target (which fills a fresh staging table and swaps it in); PostgreSQL → PostgreSQL
// incremental upsert of 10 % changed rows; PostgreSQL → MariaDB full refresh; and
// PostgreSQL → PostgreSQL full refresh of BENCH_RSS_ROWS rows (a larger table, to show
// that memory stays flat; 0 skips it).
// Each Junction case runs in a child process on the compiled dist/ (bench/db-sync-child.mjs,
// plain Node as users run it), so its peak RSS and CPU are its own; dist/ is built first
// when it is older than src/.
//
//   npm run bench:db-sync   (BENCH_ROWS=1000000 BENCH_RSS_ROWS=5000000 BENCH_BATCH=500 BENCH_CONCURRENCY=4 BENCH_NAIVE_ROWS=20000 BENCH_ROUNDS=3)
//
// The COPY pipe and the PostgreSQL → PostgreSQL full refresh run BENCH_ROUNDS times, one
// after the other (into emptied targets), and the median of each is reported: on a shared
// machine one run of either varies by a third.
//
// BENCH_CASES=pg-full,pg-replace,pg-incremental,mysql-full,pg-full-large picks the Junction cases (default
// all); BENCH_CHILD_ARGS adds Node options to the Junction child, e.g. "--cpu-prof";
// BENCH_DIST=<dir> measures another compiled build instead of dist/ (no freshness check).
//
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and MariaDB/MySQL on 127.0.0.1:3306
// (user root); BENCH_PG_URL / BENCH_MYSQL_URL override the server URLs (no database part).
// Creates the databases junction_bench_src, junction_bench_dst (PostgreSQL) and
// junction_bench (MySQL), and drops them at the end.
import { spawn } from "node:child_process";
import { ensureFreshDist } from "./dist-build.js";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import mysql from "mysql2/promise";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const NAIVE_ROWS = Math.min(ROWS, Number(process.env.BENCH_NAIVE_ROWS ?? 20_000));
const RSS_ROWS = Number(process.env.BENCH_RSS_ROWS ?? 5_000_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const ALL_CASES = ["pg-full", "pg-replace", "pg-incremental", "mysql-full", "pg-full-large"] as const;
const CASES = (process.env.BENCH_CASES?.split(",") ?? [...ALL_CASES]).filter((kind) => kind !== "pg-full-large" || RSS_ROWS > 0);
const PG_SERVER = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432";
const MYSQL_SERVER = process.env.BENCH_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const SRC_DB = "junction_bench_src";
const DST_DB = "junction_bench_dst";
const MYSQL_DB = "junction_bench";
const LARGE_TABLE = "items_large";
const CHILD_SCRIPT = fileURLToPath(new URL("./db-sync-child.mjs", import.meta.url));

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

/** Creates `table` in the source database with `rows` rows of ~200 bytes. */
async function fillSource(client: pg.Client, table: string, rows: number): Promise<void> {
  await client.query(pgTable(table));
  // ~200 bytes a row: distinct timestamps (1 ms apart), a 64-character description, a short jsonb.
  await client.query(
    `INSERT INTO ${table} (${COLUMNS})
       SELECT g,
              timestamptz '2026-01-01 00:00:00+00' + g * interval '1 millisecond',
              'item-' || g,
              (ARRAY['tools','garden','kitchen','toys','books'])[g % 5 + 1],
              round((g % 100000) / 100.0, 2),
              g % 1000,
              md5(g::text) || md5((g + 1)::text),
              jsonb_build_object('color', (ARRAY['red','green','blue'])[g % 3 + 1], 'size', g % 10, 'tags', jsonb_build_array('a', 'b'))
       FROM generate_series(1, $1::bigint) AS g`,
    [rows],
  );
}

async function setUp(): Promise<number> {
  await dropDatabases();
  await withPg("postgres", async (client) => {
    for (const database of [SRC_DB, DST_DB]) await client.query(`CREATE DATABASE ${database}`);
  });
  const averageBytes = await withPg(SRC_DB, async (client) => {
    await fillSource(client, "items", ROWS);
    await client.query("CREATE INDEX items_updated_at_id ON items (updated_at, id)");
    await client.query("VACUUM ANALYZE items");
    if (CASES.includes("pg-full-large")) {
      await fillSource(client, LARGE_TABLE, RSS_ROWS);
      await client.query(`VACUUM ANALYZE ${LARGE_TABLE}`);
    }
    const bytes = await client.query("SELECT avg(pg_column_size(items.*))::int AS b FROM items");
    return Number(bytes.rows[0].b);
  });
  await withPg(DST_DB, async (client) => {
    for (const table of ["items", "items_inc", "items_replace", "items_copy", "items_naive", LARGE_TABLE]) await client.query(pgTable(table));
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
    await target.query("TRUNCATE items_copy");
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

type JunctionCase = (typeof ALL_CASES)[number];

interface ChildPass {
  label: string;
  /** Rows the pass must write; null: as many as the first `before` statement affected. */
  rows: number | null;
  before?: { url: string; sql: string[] };
}

function junctionConfig(kind: JunctionCase): string {
  const incremental = kind === "pg-incremental";
  const sourceTable = kind === "pg-full-large" ? LARGE_TABLE : "items";
  const source = incremental
    ? "{ connection: src, table: items, key: id, cursor: updated_at, mode: incremental }"
    : `{ connection: src, table: ${sourceTable}, key: id, mode: full_refresh }`;
  const targetTable = incremental ? "items_inc" : kind === "pg-replace" ? "items_replace" : sourceTable;
  const mode = kind === "pg-replace" ? "replace" : "upsert";
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
    target: { connection: dst, table: ${targetTable}, key: id, mode: ${mode} }
    sync: { trigger: once, batch_size: ${BATCH}, concurrency: ${CONCURRENCY} }
`;
}

function junctionPasses(kind: JunctionCase): ChildPass[] {
  switch (kind) {
    case "pg-full":
      return [{ label: "1. full refresh PG → PG", rows: ROWS }];
    case "pg-replace":
      return [{ label: "1b. full refresh PG → PG, target mode: replace", rows: ROWS }];
    case "mysql-full":
      return [{ label: "3. full refresh PG → MariaDB", rows: ROWS }];
    case "pg-full-large":
      return [{ label: `4. full refresh PG → PG, ${int(RSS_ROWS)} rows (RSS case)`, rows: RSS_ROWS }];
    case "pg-incremental":
      return [
        { label: "initial incremental load PG → PG", rows: ROWS },
        {
          label: "2. incremental upsert PG → PG",
          rows: null,
          before: {
            url: pgUrl(SRC_DB),
            sql: ["UPDATE items SET updated_at = now() + id * interval '1 microsecond', quantity = quantity + 1 WHERE id % 10 = 0", "ANALYZE items"],
          },
        },
      ];
  }
}

/**
 * Runs one Junction case in a child process on the compiled dist/ (plain Node, no
 * TypeScript loader), so its peak RSS and CPU are the product's own. BENCH_CHILD_ARGS adds
 * Node options to the child, e.g. "--cpu-prof --cpu-prof-dir=prof".
 */
function runChild(kind: JunctionCase): Promise<CaseResult[]> {
  const nodeArgs = (process.env.BENCH_CHILD_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CHILD_SCRIPT], {
      env: { ...process.env, BENCH_DB_SYNC_CHILD: JSON.stringify({ config: junctionConfig(kind), passes: junctionPasses(kind) }) },
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

/** Row counts and checksums of the targets of the cases that ran. */
async function verify(): Promise<void> {
  const checksum = "SELECT count(*) AS n, sum(quantity) AS q, max(updated_at) AS t, sum(length(attrs::text)) AS a FROM ";
  const sourceOf = async (table: string): Promise<unknown> => withPg(SRC_DB, async (c) => (await c.query(`${checksum} ${table}`)).rows[0]);
  const targetOf = async (table: string): Promise<unknown> => withPg(DST_DB, async (c) => (await c.query(`${checksum} ${table}`)).rows[0]);
  const same = async (sourceTable: string, targetTable: string): Promise<void> => {
    const [source, target] = await Promise.all([sourceOf(sourceTable), targetOf(targetTable)]);
    if (JSON.stringify(source) !== JSON.stringify(target)) throw new Error(`${targetTable} differs from the source: ${JSON.stringify({ source, target })}`);
  };
  // The incremental case changed the source after the full refresh copied it: compare counts only there.
  if (CASES.includes("pg-full")) {
    const copied = await count(DST_DB, "items");
    if (copied !== ROWS) throw new Error(`full refresh target has ${copied} rows, expected ${ROWS}`);
  }
  if (CASES.includes("pg-replace")) {
    const replaced = await count(DST_DB, "items_replace");
    if (replaced !== ROWS) throw new Error(`replace target has ${replaced} rows, expected ${ROWS}`);
  }
  if (CASES.includes("pg-incremental")) await same("items", "items_inc");
  if (CASES.includes("pg-full-large")) await same(LARGE_TABLE, LARGE_TABLE);
  if (CASES.includes("mysql-full")) {
    const mysqlRows = await withMysql(MYSQL_DB, async (connection) => {
      const [rows] = await connection.query("SELECT count(*) AS n FROM items");
      return Number((rows as Array<{ n: number }>)[0]?.n);
    });
    if (mysqlRows !== ROWS) throw new Error(`MariaDB target has ${mysqlRows} rows`);
  }
}

// ---------------------------------------------------------------- report

const rate = (result: CaseResult): number => result.rows / result.seconds;

/** The result with the median rate (the lower middle one of an even count); peak RSS is the highest of all. */
function median(results: readonly CaseResult[]): CaseResult {
  const sorted = [...results].sort((a, b) => rate(a) - rate(b));
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] as CaseResult;
  const peaks = results.map((result) => result.peakRss).filter((peak): peak is number => peak !== undefined);
  return peaks.length === 0 ? middle : { ...middle, peakRss: Math.max(...peaks) };
}
const int = (value: number): string => Math.round(value).toLocaleString("en-US");
const mb = (bytes: number | undefined): string => (bytes === undefined ? "—" : `${Math.round(bytes / (1024 * 1024))} MB`);

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`db-sync: ${int(ROWS)} rows, Junction batch ${BATCH}, concurrency ${CONCURRENCY}, Node ${process.version}`);
  ensureFreshDist();
  try {
    const averageBytes = await setUp();
    console.log(`  source ready: ${int(ROWS)} rows, ${averageBytes} bytes a row on average (pg_column_size)`);
    // The pipe and the full refresh alternate, round after round, so that both see the same machine.
    const copies: CaseResult[] = [];
    const fulls: CaseResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const piped = await copyPipe();
      copies.push(piped);
      console.log(`  (a) COPY pipe, round ${round}: ${piped.seconds.toFixed(1)} s`);
      if (!CASES.includes("pg-full")) continue;
      await withPg(DST_DB, (client) => client.query("TRUNCATE items"));
      for (const result of await runChild("pg-full")) {
        console.log(`  ${result.label}, round ${round}: ${result.seconds.toFixed(1)} s, Junction process CPU ${result.cpuSeconds?.toFixed(1)} s`);
        fulls.push(result);
      }
    }
    const copy = median(copies);
    const naive = await naivePostgres();
    console.log(`  (b) naive loop PG: ${naive.rows} rows in ${naive.seconds.toFixed(1)} s`);
    const naiveMy = await naiveMysql();
    console.log(`  (b′) naive loop MariaDB: ${naiveMy.rows} rows in ${naiveMy.seconds.toFixed(1)} s`);
    const cases: CaseResult[] = fulls.length > 0 ? [median(fulls)] : [];
    for (const kind of CASES as JunctionCase[]) {
      if (kind === "pg-full") continue;
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
      const fullRefreshes = cases.filter((result) => result.label.startsWith("1.") || result.label.startsWith("4."));
      const peak = Math.max(...fullRefreshes.map((result) => result.peakRss ?? 0));
      console.log(
        `\naims (full refresh PG → PG): ≥ 0.6 × COPY pipe: ${(rate(full) / rate(copy)).toFixed(2)}; ≥ 20 × naive loop: ${(rate(full) / rate(naive)).toFixed(1)}; ` +
          `peak RSS < 256 MB: ${peak < 256 * 1024 * 1024 ? "yes" : "no"} (${mb(peak)}, largest of cases 1 and 4)`,
      );
    }
    if (ROUNDS > 1) {
      const list = (results: CaseResult[]): string => results.map((result) => int(rate(result))).join(" / ");
      console.log(`rounds (rows/s): COPY pipe ${list(copies)}${fulls.length > 0 ? `; full refresh PG → PG ${list(fulls)}; ratios ${fulls.map((full, at) => (rate(full) / rate(copies[at] as CaseResult)).toFixed(2)).join(" / ")}` : ""} (medians in the table)`);
    }
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await dropDatabases();
  }
}

for (const kind of CASES) if (!(ALL_CASES as readonly string[]).includes(kind)) throw new Error(`BENCH_CASES: unknown case ${kind}; use ${ALL_CASES.join(", ")}`);
await main();
