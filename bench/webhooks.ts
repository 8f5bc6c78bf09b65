// Verified inbound webhooks stored durably, per second: Junction's `webhooks.inbound` endpoint
// (`junction run` on dist/, a child process; Standard Webhooks verification over the raw bytes,
// then the id's replay-protection key and the inbox row in one transaction, 200 after the
// commit) against a hand-written fastify handler (bench/webhooks-baseline.ts, a child process:
// `standardwebhooks` verification, then one INSERT … ON CONFLICT (id) DO NOTHING), with the
// same state database, measured in the same run.
// The load: BENCH_REQUESTS signed requests (~600-byte JSON bodies, signed before the clock
// starts) sent by this process over BENCH_CONNECTIONS keep-alive connections; the rate is
// accepted requests / seconds from the first request to the last response. Each store's case
// runs BENCH_ROUNDS (3) times, the side that goes first alternating; medians are reported.
//
//   npm run bench:webhooks   (BENCH_REQUESTS=20000 BENCH_CONNECTIONS=32 BENCH_STORES=postgres,sqlite BENCH_ROUNDS=3 BENCH_DIST=<dir> BENCH_CHILD_ARGS=<node options>)
//
// Needs PostgreSQL on 127.0.0.1:5432 (database test) for the postgres case; creates and drops
// its own schema and table.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { Pool } from "undici";
import { openSqlite } from "../src/state/sqlite/sqlite-driver.js";
import { generateStandardWebhookSecret } from "../src/webhooks/signatures/index.js";
import { freePort } from "../test/support/free-port.js";
import { ensureFreshDist, repoRoot } from "./dist-build.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const STORES = (process.env.BENCH_STORES ?? "postgres,sqlite").split(",");
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CLI = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST, "cli/main.js") : join(repoRoot, "dist/cli/main.js");
const SCHEMA = `bench_webhooks_${process.pid}`;
// BENCH_CHILD_ARGS: Node options for the Junction child, e.g. "--cpu-prof --cpu-prof-dir=prof".
const CHILD_ARGS = process.env.BENCH_CHILD_ARGS?.split(" ").filter((arg) => arg !== "") ?? [];
const secret = generateStandardWebhookSecret();

interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

function signedRequests(round: string): SignedRequest[] {
  const webhook = new Webhook(secret);
  const now = new Date();
  return Array.from({ length: REQUESTS }, (_, i) => {
    const id = `msg_${round}_${i}`;
    const body = JSON.stringify({ type: i % 2 === 0 ? "invoice.paid" : "invoice.created", data: { id: `in_${i}`, customer: `cus_${i % 977}`, amount: 1000 + i, currency: "eur", lines: Array.from({ length: 4 }, (_, l) => ({ sku: `sku-${l}`, qty: l + 1, note: "x".repeat(60) })) } });
    return { body, headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": webhook.sign(id, now, body) } };
  });
}

/** Sends every request with CONNECTIONS in flight; returns accepted requests per second. */
async function load(port: number, requests: SignedRequest[]): Promise<number> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS, pipelining: 1 });
  let next = 0;
  let accepted = 0;
  const failures: string[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (;;) {
        const request = requests[next++];
        if (request === undefined) return;
        const response = await pool.request({ path: "/webhooks/bench", method: "POST", headers: request.headers, body: request.body });
        const text = await response.body.text();
        if (response.statusCode === 200 && text.includes('"accepted"')) accepted++;
        else if (failures.length < 3) failures.push(`${response.statusCode} ${text}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  if (accepted !== requests.length) throw new Error(`only ${accepted} of ${requests.length} requests accepted: ${failures.join("; ")}`);
  return accepted / seconds;
}

async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpMatchArray> {
  let seen = "";
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString("utf8");
      const match = pattern.exec(seen);
      if (match) {
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        resolvePromise(match);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before it was ready:\n${seen}`)));
  });
}

/** Until the admin server answers /health (the webhook routes are registered before it listens). */
async function waitForHealth(child: ChildProcess, port: number): Promise<void> {
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`junction run exited (${child.exitCode}):\n${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
    }
  }
  throw new Error(`junction run did not start listening on ${port}:\n${stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

interface Store {
  name: string;
  /** Fresh, empty tables for one round; returns what the children need. */
  prepare(dir: string): Promise<{ state: string; baseline: [string, string] }>;
  count(dir: string, junction: boolean): Promise<number>;
}

const admin = new pg.Client({ connectionString: PG_URL });

const postgresStore: Store = {
  name: "postgres",
  async prepare() {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE TABLE ${SCHEMA}.bench_baseline_events (id text PRIMARY KEY, type text, headers json NOT NULL, body text NOT NULL, received_at timestamptz NOT NULL)`);
    const url = `${PG_URL}?options=-c%20search_path%3D${SCHEMA}`;
    return { state: `${PG_URL}?schema=${SCHEMA}`, baseline: ["postgres", url] };
  },
  async count(_dir, junction) {
    const table = junction ? "junction_webhook_inbox" : "bench_baseline_events";
    return (await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.${table}`)).rows[0]?.n ?? 0;
  },
};

let sqliteStateFile = "";
const sqliteStore: Store = {
  name: "sqlite",
  async prepare(dir) {
    const stamp = Date.now();
    const file = join(dir, `baseline-${stamp}.db`);
    const db = openSqlite(file);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE bench_baseline_events (id TEXT PRIMARY KEY, type TEXT, headers TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL)");
    db.close();
    sqliteStateFile = join(dir, `state-${stamp}.db`);
    return { state: `sqlite:${sqliteStateFile}`, baseline: ["sqlite", file] };
  },
  async count() {
    const db = openSqlite(sqliteStateFile, { readonly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM junction_webhook_inbox").get() as { n: number }).n;
    } finally {
      db.close();
    }
  },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function runBaseline(dir: string, args: [string, string], requests: SignedRequest[]): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bench/webhooks-baseline.ts"), ...args, secret], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  try {
    const [, port] = await waitForLine(child, /listening (\d+)/, "the baseline server");
    return await load(Number(port), requests);
  } finally {
    await stop(child);
    void dir;
  }
}

async function runJunction(dir: string, state: string, requests: SignedRequest[]): Promise<number> {
  const port = await freePort();
  writeFileSync(
    join(dir, "junction.yaml"),
    `version: 1
state: "${state}"
admin: { listen: "127.0.0.1:${port}" }
log: { level: warn }
connections:
  out: { type: discard }
webhooks:
  inbound:
    bench:
      path: /webhooks/bench
      verifier: { type: standard, secret: "${secret}" }
integrations:
  invoices:
    # Stored in the inbox for this integration; it runs yearly, so the benchmark measures receiving.
    source: { webhook: bench, events: ["invoice.*"] }
    target: { connection: out }
    sync: { trigger: schedule, schedule: "0 0 1 1 *" }
`,
  );
  const child = spawn(process.execPath, [...CHILD_ARGS, CLI, "run", "junction.yaml", "--no-progress"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  try {
    await waitForHealth(child, port);
    return await load(port, requests);
  } finally {
    await stop(child);
  }
}

ensureFreshDist();
console.log(`Inbound webhooks, verified and stored: ${REQUESTS} requests, ${CONNECTIONS} connections, ${ROUNDS} rounds (medians)\n`);
const table: string[] = [];
for (const store of [postgresStore, sqliteStore].filter((s) => STORES.includes(s.name))) {
  if (store === postgresStore) await admin.connect();
  const dir = mkdtempSync(join(tmpdir(), "junction-bench-webhooks-"));
  const baseline: number[] = [];
  const junction: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const prepared = await store.prepare(dir);
      // Alternate which side goes first, so neither always meets a warmer or a busier database.
      if (round % 2 === 0) {
        baseline.push(await runBaseline(dir, prepared.baseline, signedRequests(`b${round}`)));
        junction.push(await runJunction(dir, prepared.state, signedRequests(`j${round}`)));
      } else {
        junction.push(await runJunction(dir, prepared.state, signedRequests(`j${round}`)));
        baseline.push(await runBaseline(dir, prepared.baseline, signedRequests(`b${round}`)));
      }
      const stored = await store.count(dir, true);
      if (stored !== REQUESTS) throw new Error(`junction stored ${stored} of ${REQUESTS} events`);
      console.log(`  ${store.name} round ${round + 1}: fastify + standardwebhooks ${baseline[round]!.toFixed(0)}/s, Junction ${junction[round]!.toFixed(0)}/s (${(junction[round]! / baseline[round]!).toFixed(2)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (store === postgresStore) {
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.end();
    }
  }
  const b = median(baseline);
  const j = median(junction);
  table.push(`| ${store.name} | ${b.toFixed(0)} | ${j.toFixed(0)} | ${(j / b).toFixed(2)} | ${baseline.map((x, i) => (junction[i]! / x).toFixed(2)).join(" / ")} |`);
}
console.log("\n| state | fastify + standardwebhooks + INSERT (req/s) | Junction webhooks.inbound (req/s) | ratio | rounds |");
console.log("|---|---|---|---|---|");
for (const line of table) console.log(line);
