// @needs-service rabbitmq
// @needs-service postgres
// @slow
// @exclusive (stops and starts the local RabbitMQ application)
// RabbitMQ is stopped and started again while one integration publishes to it (with
// confirms) and another consumes from it into PostgreSQL: both reconnect on their own,
// and every message whose publish was confirmed arrives.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { spawnCli } from "../support/cli.js";
import { isServiceReachable, postgresTestUrl, serviceSkipReason } from "../support/services.js";
import { tempDir } from "../support/temp-dir.js";
import { RABBIT_URL, RawRabbit, uniqueName } from "../connectors/amqp/amqp-fixtures.js";

const run = promisify(execFile);
const MESSAGES = 5_000;
const skip = (await serviceSkipReason("rabbitmq")) || (await serviceSkipReason("postgres"));

async function rabbitmqctl(...args: string[]): Promise<void> {
  await run("rabbitmqctl", args, { timeout: 120_000 });
}

describe("RabbitMQ restarted mid-stream", { skip }, () => {
  const dir = tempDir();
  after(async () => {
    // Whatever happened, leave the broker running for everyone else.
    await rabbitmqctl("start_app").catch(() => undefined);
    dir.remove();
  });

  test(`publisher and consumer reconnect; all ${MESSAGES} confirmed messages arrive`, { timeout: 300_000 }, async (t) => {
    const queue = uniqueName("restart");
    const table = `amqp_restart_${process.pid}`;
    const db = new pg.Client({ connectionString: postgresTestUrl() });
    await db.connect();
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body text NOT NULL)`);
    const count = async (): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
    writeFileSync(
      join(dir.path, "junction.yaml"),
      `version: 1
name: amqp-restart
admin: false
log: { level: warn }
connections:
  synthetic: { type: generate }
  rabbit:
    type: amqp
    url: "${RABBIT_URL}"
    queues: [{ name: "${queue}", type: quorum }]
  db: { type: postgres, url: "${postgresTestUrl()}" }
integrations:
  publish:
    source: { connection: synthetic, count: ${MESSAGES}, batch_size: 25, interval: 40ms, resume: true, payload: { id: "{{i}}", body: "message {{i}}" } }
    target: { connection: rabbit, routing_key: "${queue}" }
    sync: { trigger: once, batch_size: 25 }
    resilience: { retry: { attempts: 60, base_delay: 100ms, max_delay: 1s } }
  consume:
    source: { connection: rabbit, queue: "${queue}", prefetch: 200 }
    target: { connection: db, table: ${table}, mode: upsert, key: id }
    sync: { trigger: continuous, batch_size: 100 }
    resilience: { retry: { attempts: 60, base_delay: 100ms, max_delay: 1s } }
`,
    );
    const child = spawnCli(["run", "junction.yaml"], { cwd: dir.path });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = once(child, "exit");
    try {
      const deadline = Date.now() + 120_000;
      while ((await count()) < 800 && Date.now() < deadline) await delay(20);
      const before = await count();
      assert.ok(before >= 800 && before < MESSAGES, `expected to stop RabbitMQ mid-stream, at ${before} rows: ${stderr}`);
      await rabbitmqctl("stop_app");
      assert.equal(await isServiceReachable("rabbitmq"), false, "RabbitMQ should be down");
      await delay(3_000);
      await rabbitmqctl("start_app");
      t.diagnostic(`RabbitMQ stopped at ${before} rows for 3 s (plus its own stop and start time)`);

      while ((await count()) < MESSAGES && Date.now() < deadline + 120_000) await delay(100);
      assert.equal(await count(), MESSAGES, `messages missing after the restart: ${stderr}`);
      assert.match(stderr, /RabbitMQ connection lost/, "the connection loss was noticed and logged");
    } finally {
      child.kill("SIGTERM");
      await exited;
      const raw = await RawRabbit.open().catch(() => undefined);
      if (raw) {
        raw.track(queue);
        await raw.cleanup();
      }
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.end();
    }
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
