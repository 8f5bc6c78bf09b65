import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import pg from "pg";
import { runCli, spawnCli } from "./cli.js";
import { postgresTestUrl } from "./services.js";
import { tempDir } from "./temp-dir.js";

/**
 * The shared SIGKILL acceptance scenario of the broker connectors: N messages
 * `{ "id": n, "body": … }` wait in the broker; a `junction run` consuming them into a
 * PostgreSQL table keyed by id is killed with SIGKILL at random points and started again;
 * at the end every id is in the table exactly once and nothing was dead-lettered.
 */
export interface BrokerCrashScenario {
  /** Short unique name: the table and the config use it. */
  name: string;
  /** YAML of the broker connection, indented for `connections:` (two spaces), named `broker`. */
  connectionYaml: string;
  /** YAML flow map of the source options without `connection`, e.g. `queue: q1, prefetch: 200`. */
  sourceOptions: string;
  /** Called before `publish`: declare what must exist for the messages to wait (a queue, a stream, a persistent session). */
  prepare?(): Promise<void>;
  /** Puts `count` messages with ids 1..count (payload `crashMessage(n)`) into the broker, where the source will read them. */
  publish(count: number): Promise<void>;
  messages?: number;
  kills?: number;
  /** Extra `sync:` options, e.g. `batch_size: 100`. */
  sync?: string;
}

export interface BrokerCrashResult {
  killedAt: number[];
  received: number;
}

export async function runBrokerCrashScenario(t: TestContext, scenario: BrokerCrashScenario): Promise<BrokerCrashResult> {
  const messages = scenario.messages ?? 10_000;
  const kills = scenario.kills ?? 3;
  const table = `crash_${scenario.name}_${process.pid}`;
  const dir = tempDir();
  const db = new pg.Client({ connectionString: postgresTestUrl() });
  await db.connect();
  try {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body text NOT NULL)`);
    await scenario.prepare?.();
    await scenario.publish(messages);
    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
name: broker-crash-${scenario.name}
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
shutdown_timeout: 10s
connections:
${scenario.connectionYaml}
  db: { type: postgres, url: "${postgresTestUrl()}" }
integrations:
  consume:
    source: { connection: broker, ${scenario.sourceOptions} }
    transform:
      - select: [id, body]
    target: { connection: db, table: ${table}, mode: upsert, key: id }
    sync: { trigger: continuous${scenario.sync ? `, ${scenario.sync}` : ""} }
`,
    );
    const count = async (): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
    const killedAt: number[] = [];
    for (let k = 0; k < kills; k++) {
      const start = await count();
      // Somewhere in the next fifth of the messages: always mid-stream (3 × 20 % < 100 %).
      const killAfter = start + 1 + Math.floor(Math.random() * (messages / 5));
      const child = spawnCli(["run", "junction.yaml"], { cwd: dir.path });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = once(child, "exit");
      let finished = false;
      void exited.then(() => (finished = true));
      const deadline = Date.now() + 120_000;
      while (!finished && Date.now() < deadline && (await count()) < killAfter) await delay(5);
      assert.ok(!finished, `run ${k + 1} ended before it was killed: ${stderr}`);
      assert.ok(Date.now() < deadline, `run ${k + 1} did not reach ${killAfter} rows in 120 s (at ${await count()}): ${stderr}`);
      child.kill("SIGKILL");
      await exited;
      killedAt.push(await count());
    }
    t.diagnostic(`killed at ${killedAt.join(", ")} of ${messages} rows`);

    // The last run consumes the rest, then stops gracefully on SIGTERM.
    const child = spawnCli(["run", "junction.yaml"], { cwd: dir.path });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit");
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && (await count()) < messages) await delay(50);
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    const received = await count();
    assert.equal(received, messages, `only ${received} of ${messages} messages arrived (killed at ${killedAt.join(", ")}): ${stderr}`);
    assert.equal(code, 0, `the last run did not stop cleanly on SIGTERM: ${stderr}`);
    const ids = await db.query<{ min: string; max: string }>(`SELECT min(id)::text AS min, max(id)::text AS max FROM ${table}`);
    assert.deepEqual(ids.rows[0], { min: "1", max: String(messages) });

    const dead = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
    assert.equal(dead.code, 0, dead.stderr);
    assert.deepEqual(JSON.parse(dead.stdout), []);
    return { killedAt, received };
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end();
    dir.remove();
  }
}

/** The payload of message n in every broker's crash scenario. */
export function crashMessage(n: number): { id: number; body: string } {
  return { id: n, body: `message ${n} ${"x".repeat(n % 50)}` };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
