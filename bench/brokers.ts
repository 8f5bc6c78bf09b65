// Broker throughput and end-to-end latency through Junction's amqp and nats connectors,
// against hand-written baselines with the same client libraries and the same ack discipline,
// measured in the same run:
//   consume  RabbitMQ → PostgreSQL upsert: Junction (`junction run` on dist/, a child process)
//            vs amqplib with the same prefetch, a multi-row INSERT … ON CONFLICT per batch of
//            BENCH_BATCH messages (or BENCH_PERIOD_MS), then one multiple-ack;
//   consume  NATS JetStream → PostgreSQL upsert: Junction vs @nats-io/jetstream fetch of
//            BENCH_BATCH messages, the same upsert, then an ack per message;
//   publish  messages into a RabbitMQ queue with confirms: Junction (generate → amqp target)
//            vs amqplib on one confirm channel, BENCH_BATCH publishes then waitForConfirms.
// Consumer throughput is N / (last commit − first commit) from the rows' commit clock;
// publisher throughput is N / (last − first message seen in the queue). Latency: messages
// published at BENCH_RATE/s for BENCH_LATENCY_SECONDS while the consumer runs; p50/p99 of
// commit time − publish time. Every case runs BENCH_ROUNDS (3) times; the table shows medians.
//
//   npm run bench:brokers   (BENCH_DIST=<dir> measures another build, BENCH_CHILD_ARGS adds Node options to the Junction child; BENCH_MESSAGES=100000 BENCH_BATCH=500 BENCH_PERIOD_MS=100 BENCH_RATE=2000 BENCH_LATENCY_SECONDS=10 BENCH_CASES=amqp,nats,publish BENCH_ROUNDS=3)
//
// Needs PostgreSQL (127.0.0.1:5432, database test), RabbitMQ (guest) and NATS with JetStream
// on their default local ports; creates and removes its own queues, streams and tables.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import amqplib from "amqplib";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { connect as natsConnect } from "@nats-io/transport-node";
import pg from "pg";
import { ensureFreshDist, repoRoot } from "./dist-build.js";

const N = Number(process.env.BENCH_MESSAGES ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const PERIOD_MS = Number(process.env.BENCH_PERIOD_MS ?? 100);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const CASES = process.env.BENCH_CASES?.split(",") ?? ["amqp", "nats", "publish"];
// Each case runs BENCH_ROUNDS times (baseline, then Junction); medians are reported, every round too.
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const AMQP_URL = process.env.BENCH_AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const NATS_URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const TAG = `${process.pid}`;
// BENCH_CHILD_ARGS: Node options for the Junction child, e.g. "--cpu-prof --cpu-prof-dir=prof".
const CHILD_ARGS = process.env.BENCH_CHILD_ARGS?.split(" ").filter((arg) => arg !== "") ?? [];
// BENCH_DIST: another compiled build to measure instead of dist/.
const CLI = process.env.BENCH_DIST ? resolve(process.env.BENCH_DIST, "cli/main.js") : join(repoRoot, "dist/cli/main.js");

interface Measured {
  rate: number;
  p50Ms?: number;
  p99Ms?: number;
}

const db = new pg.Client({ connectionString: PG_URL });
// The baselines write through their own connection, as Junction's target does.
const sinkDb = new pg.Client({ connectionString: PG_URL });
const amqp = await amqplib.connect(AMQP_URL);
const ch = await amqp.createConfirmChannel();

function body(id: number, sentAt = 0): Buffer {
  return Buffer.from(JSON.stringify({ id, body: `order ${id} ${"x".repeat(100)}`, sent_at: sentAt }));
}

async function freshTable(name: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${name}`);
  await db.query(`CREATE TABLE ${name} (id bigint PRIMARY KEY, body text NOT NULL, sent_at double precision NOT NULL, received_at double precision NOT NULL DEFAULT extract(epoch from clock_timestamp()) * 1000)`);
}

async function rows(table: string): Promise<number> {
  return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
}

async function waitForRows(table: string, expected: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await rows(table)) < expected) {
    if (Date.now() > deadline) throw new Error(`${table}: ${await rows(table)} of ${expected} rows after ${timeoutMs} ms`);
    await delay(50);
  }
}

/** Throughput from the commit clock, and latency percentiles of paced rows (sent_at > 0). */
async function measure(table: string): Promise<Measured> {
  const span = (await db.query<{ first: number; last: number; n: number }>(`SELECT min(received_at) AS first, max(received_at) AS last, count(*)::int AS n FROM ${table} WHERE sent_at = 0`)).rows[0];
  const latency = (
    await db.query<{ p50: number | null; p99: number | null }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY received_at - sent_at) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY received_at - sent_at) AS p99 FROM ${table} WHERE sent_at > 0`,
    )
  ).rows[0];
  const seconds = Math.max(0.001, ((span?.last ?? 0) - (span?.first ?? 0)) / 1000);
  return { rate: (span?.n ?? 0) / seconds, ...(latency?.p50 != null ? { p50Ms: latency.p50, p99Ms: latency.p99 ?? undefined } : {}) };
}

/** Publishes at RATE/s for LATENCY_SECONDS with sent_at, ids after the throughput ones. */
async function paced(publish: (id: number, sentAt: number) => Promise<void> | void): Promise<number> {
  const total = RATE * LATENCY_SECONDS;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await delay(wait);
    await publish(N + 1 + i, performance.timeOrigin + performance.now());
  }
  return total;
}

// ---- Junction in a child process on dist/ ----

async function junctionRun(config: string, untilRows: { table: string; count: number } | undefined, args: string[] = []): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "junction-bench-"));
  writeFileSync(join(dir, "junction.yaml"), config);
  const child = spawn(process.execPath, [...CHILD_ARGS, CLI, "run", "junction.yaml", ...args], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = once(child, "exit");
  try {
    if (untilRows) await waitForRows(untilRows.table, untilRows.count);
    else await exited;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  } finally {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = `version: 1
name: bench-brokers
admin: false
log: { level: warn }
`;

function junctionConsumerConfig(connection: string, source: string, table: string): string {
  return `${HEADER}connections:
${connection}
  db: { type: postgres, url: "${PG_URL}" }
integrations:
  consume:
    source: { connection: broker, ${source} }
    target: { connection: db, table: ${table}, mode: upsert, key: id }
    sync: { trigger: continuous, batch_size: ${BATCH}, batch_period: ${PERIOD_MS}ms }
`;
}

// ---- RabbitMQ ----

async function fillQueue(queue: string, count: number): Promise<void> {
  for (let id = 1; id <= count; id++) {
    if (!ch.sendToQueue(queue, body(id), { persistent: true, messageId: `m${id}` })) await once(ch, "drain");
    if (id % 5000 === 0) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
}

async function amqpQueue(name: string): Promise<string> {
  await ch.deleteQueue(name);
  await ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": "quorum" } });
  return name;
}

/** The hand-written consumer: prefetch, batch, one multi-row upsert, one multiple-ack after commit; returns once `expected` rows are in. */
async function amqpBaseline(queue: string, table: string, expected: number): Promise<void> {
  const channel = await amqp.createChannel();
  await channel.prefetch(BATCH * 2);
  let batch: amqplib.ConsumeMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    chain = chain.then(async () => {
      await upsert(table, taken.map((m) => JSON.parse(m.content.toString()) as Row));
      channel.ack(taken[taken.length - 1] as amqplib.ConsumeMessage, true);
    });
  };
  await channel.consume(queue, (message) => {
    if (!message) return;
    batch.push(message);
    if (batch.length >= BATCH) flush();
    else timer ??= setTimeout(flush, PERIOD_MS);
  });
  await waitForRows(table, expected);
  await chain;
  await channel.close();
}

interface Row {
  id: number;
  body: string;
  sent_at: number;
}

async function upsert(table: string, batch: Row[]): Promise<void> {
  const params: unknown[] = [];
  const values = batch.map((row, i) => {
    params.push(row.id, row.body, row.sent_at);
    return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`;
  });
  await sinkDb.query(`INSERT INTO ${table} (id, body, sent_at) VALUES ${values.join(", ")} ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, sent_at = EXCLUDED.sent_at`, params);
}

async function amqpCase(): Promise<{ junction: Measured; baseline: Measured }> {
  const connection = `  broker: { type: amqp, url: "${AMQP_URL}" }`;
  const run = async (label: string, consume: (queue: string, table: string) => Promise<void>): Promise<Measured> => {
    const queue = await amqpQueue(`bench.${label}.${TAG}`);
    const table = `bench_amqp_${label}_${TAG}`;
    await freshTable(table);
    await fillQueue(queue, N);
    const consuming = consume(queue, table);
    await waitForRows(table, N);
    await paced((id, sentAt) => {
      ch.sendToQueue(queue, body(id, sentAt), { persistent: true });
    });
    await waitForRows(table, N + RATE * LATENCY_SECONDS);
    await consuming;
    const measured = await measure(table);
    await db.query(`DROP TABLE ${table}`);
    await ch.deleteQueue(queue);
    return measured;
  };
  const baseline = await run("baseline", (queue, table) => amqpBaseline(queue, table, N + RATE * LATENCY_SECONDS));
  const junction = await run("junction", (queue, table) =>
    junctionRun(junctionConsumerConfig(connection, `queue: "${queue}", prefetch: ${BATCH * 2}`, table), { table, count: N + RATE * LATENCY_SECONDS }),
  );
  return { junction, baseline };
}

// ---- NATS JetStream ----

async function natsCase(): Promise<{ junction: Measured; baseline: Measured }> {
  const nc = await natsConnect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const run = async (label: string, consume: (stream: string, subject: string, table: string) => Promise<void>): Promise<Measured> => {
    const stream = `BENCH_${label.toUpperCase()}_${TAG}`;
    const subject = `bench.${label}.${TAG}`;
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const table = `bench_nats_${label}_${TAG}`;
    await freshTable(table);
    const acks: Promise<unknown>[] = [];
    for (let id = 1; id <= N; id++) {
      acks.push(js.publish(subject, body(id), { msgID: `m${id}` }));
      if (acks.length >= 1000) await Promise.all(acks.splice(0));
    }
    await Promise.all(acks);
    const consuming = consume(stream, subject, table);
    await waitForRows(table, N);
    const pending: Promise<unknown>[] = [];
    await paced((id, sentAt) => {
      pending.push(js.publish(subject, body(id, sentAt)));
    });
    await Promise.all(pending);
    await waitForRows(table, N + RATE * LATENCY_SECONDS);
    await consuming;
    const measured = await measure(table);
    await db.query(`DROP TABLE ${table}`);
    await jsm.streams.delete(stream);
    return measured;
  };
  const expected = N + RATE * LATENCY_SECONDS;
  const baseline = await run("baseline", async (stream, _subject, table) => {
    await jsm.consumers.add(stream, { durable_name: "baseline", ack_policy: AckPolicy.Explicit, max_ack_pending: BATCH * 2 });
    const consumer = await js.consumers.get(stream, "baseline");
    while ((await rows(table)) < expected) {
      const messages = await consumer.fetch({ max_messages: BATCH, expires: Math.max(1000, PERIOD_MS) });
      const batch = [];
      for await (const message of messages) batch.push(message);
      if (batch.length === 0) continue;
      await upsert(table, batch.map((m) => m.json<Row>()));
      for (const message of batch) message.ack();
    }
  });
  const junction = await run("junction", (stream, _subject, table) =>
    junctionRun(junctionConsumerConfig(`  broker: { type: nats, servers: "${NATS_URL}" }`, `stream: "${stream}", consumer: junction`, table), { table, count: expected }),
  );
  await nc.close();
  return { junction, baseline };
}

// ---- publishing with confirms ----

async function queueRate(queue: string, publish: () => Promise<void>): Promise<number> {
  let first = 0;
  let last = 0;
  const watching = (async () => {
    for (;;) {
      const count = (await ch.checkQueue(queue)).messageCount;
      if (count > 0 && first === 0) first = performance.now();
      if (count >= N) {
        last = performance.now();
        return;
      }
      await delay(10);
    }
  })();
  await publish();
  await watching;
  return N / Math.max(0.001, (last - first) / 1000);
}

async function publishCase(): Promise<{ junction: Measured; baseline: Measured }> {
  const baselineQueue = await amqpQueue(`bench.publish.baseline.${TAG}`);
  const baseline = await queueRate(baselineQueue, async () => {
    const confirm = await amqp.createConfirmChannel();
    for (let id = 1; id <= N; id++) {
      if (!confirm.sendToQueue(baselineQueue, body(id), { persistent: true, messageId: `m${id}` })) await once(confirm, "drain");
      if (id % BATCH === 0) await confirm.waitForConfirms();
    }
    await confirm.waitForConfirms();
    await confirm.close();
  });
  await ch.deleteQueue(baselineQueue);
  const junctionQueue = await amqpQueue(`bench.publish.junction.${TAG}`);
  const junction = await queueRate(junctionQueue, () =>
    junctionRun(
      `${HEADER}connections:
  synthetic: { type: generate }
  broker: { type: amqp, url: "${AMQP_URL}" }
integrations:
  publish:
    source: { connection: synthetic, count: ${N}, batch_size: ${BATCH}, payload: { id: "{{i}}", body: "order {{i}} ${"x".repeat(100)}", sent_at: 0 } }
    target: { connection: broker, routing_key: "${junctionQueue}" }
    sync: { batch_size: ${BATCH} }
`,
      undefined,
      ["--once"],
    ),
  );
  await ch.deleteQueue(junctionQueue);
  return { junction: { rate: junction }, baseline: { rate: baseline } };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const int = (value: number): string => Math.round(value).toLocaleString("en-US");
const ms = (value: number | undefined): string => (value === undefined ? "–" : `${value.toFixed(0)} ms`);

ensureFreshDist();
await db.connect();
await sinkDb.connect();
console.log(`brokers: ${int(N)} messages of ~150 bytes, batch ${BATCH}, flush period ${PERIOD_MS} ms; latency at ${int(RATE)}/s for ${LATENCY_SECONDS} s; Node ${process.version}`);
console.log("| case | Junction msg/s | baseline msg/s | ratio | Junction p50 / p99 | baseline p50 / p99 |");
console.log("|---|---:|---:|---:|---:|---:|");
const results: [string, () => Promise<{ junction: Measured; baseline: Measured }>][] = [
  ["amqp", amqpCase],
  ["nats", natsCase],
  ["publish", publishCase],
];
const labels: Record<string, string> = {
  amqp: "RabbitMQ → PostgreSQL upsert (baseline: amqplib + pg)",
  nats: "NATS JetStream → PostgreSQL upsert (baseline: @nats-io/jetstream + pg)",
  publish: "publish to RabbitMQ with confirms (baseline: amqplib confirm channel)",
};
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const medianOf = (rounds: Measured[]): Measured => {
  const p50 = rounds.flatMap((round) => (round.p50Ms === undefined ? [] : [round.p50Ms]));
  const p99 = rounds.flatMap((round) => (round.p99Ms === undefined ? [] : [round.p99Ms]));
  return { rate: median(rounds.map((round) => round.rate)), ...(p50.length > 0 ? { p50Ms: median(p50), p99Ms: median(p99) } : {}) };
};
const notes: string[] = [];
try {
  for (const [name, run] of results) {
    if (!CASES.includes(name)) continue;
    const rounds: { junction: Measured; baseline: Measured }[] = [];
    for (let round = 0; round < ROUNDS; round++) rounds.push(await run());
    const junction = medianOf(rounds.map((round) => round.junction));
    const baseline = medianOf(rounds.map((round) => round.baseline));
    console.log(`| ${labels[name]} | ${int(junction.rate)} | ${int(baseline.rate)} | ${(junction.rate / baseline.rate).toFixed(2)} | ${ms(junction.p50Ms)} / ${ms(junction.p99Ms)} | ${ms(baseline.p50Ms)} / ${ms(baseline.p99Ms)} |`);
    notes.push(`${name} rounds (Junction / baseline msg/s): ${rounds.map((round) => `${int(round.junction.rate)} / ${int(round.baseline.rate)} (${(round.junction.rate / round.baseline.rate).toFixed(2)})`).join("; ")}`);
  }
  for (const note of notes) console.log(note);
} finally {
  await db.end();
  await sinkDb.end();
  await amqp.close();
}
