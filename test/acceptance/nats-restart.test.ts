// @needs-service postgres
// @slow
// A private nats-server (file storage) is killed with SIGKILL and started again while one
// integration publishes 3,000 messages to a JetStream stream and another consumes the
// stream into PostgreSQL: both reconnect on their own, retried publishes are deduplicated
// by Nats-Msg-Id (the stream holds each message once), and every message arrives.
// Needs the nats-server binary; the shared server on port 4222 is never touched.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { runCli, spawnCli } from "../support/cli.js";
import { freePort } from "../support/free-port.js";
import { postgresTestUrl, serviceSkipReason } from "../support/services.js";
import { tempDir } from "../support/temp-dir.js";

const NATS_SERVER = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"].find((path) => existsSync(path));
const MESSAGES = 3_000;
const skip = NATS_SERVER === undefined ? "the nats-server binary is not installed" : await serviceSkipReason("postgres");

class PrivateNatsServer {
  #child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = spawn(NATS_SERVER as string, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.storeDir], { stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const nc = await connect({ servers: this.url, reconnect: false }).catch(() => undefined);
      if (nc !== undefined) {
        await nc.close();
        return;
      }
      if (Date.now() > deadline) throw new Error("the private nats-server did not start");
      await delay(100);
    }
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
}

describe("nats-server killed and restarted mid-stream", { skip }, () => {
  const dir = tempDir();
  let server: PrivateNatsServer | undefined;
  after(async () => {
    await server?.kill();
    dir.remove();
  });

  test(`publisher and consumer reconnect; ${MESSAGES} messages stored once and all consumed`, { timeout: 300_000 }, async (t) => {
    server = new PrivateNatsServer(await freePort(), join(dir.path, "jetstream"));
    await server.start();
    const table = `nats_restart_${process.pid}`;
    const db = new pg.Client({ connectionString: postgresTestUrl() });
    await db.connect();
    try {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, body text NOT NULL)`);
      writeFileSync(
        join(dir.path, "junction.yaml"),
        `version: 1
name: nats-restart
state: sqlite:.junction/state.db
admin: false
log: { level: warn }
shutdown_timeout: 10s
connections:
  bus:
    type: nats
    servers: ${server.url}
    request_timeout: 2s
    streams: [{ name: RESTART, subjects: [restart.>], duplicate_window: 10m }]
  gen: { type: generate }
  db: { type: postgres, url: "${postgresTestUrl()}" }
integrations:
  produce:
    source: { connection: gen, count: ${MESSAGES}, batch_size: 50, interval: 100ms, payload: { id: "{{i}}", body: "message {{i}}" } }
    target: { connection: bus, stream: RESTART, subject: restart.orders }
    resilience: { retry: { attempts: 30, base_delay: 200ms, max_delay: 2s } }
    sync: { trigger: continuous }
  consume:
    source: { connection: bus, stream: RESTART, consumer: restart, ack_wait: 5s }
    transform:
      - select: [id, body]
    target: { connection: db, table: ${table}, mode: upsert, key: id }
    sync: { trigger: continuous }
`,
      );
      const count = async (): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
      const child = spawnCli(["run", "junction.yaml"], { cwd: dir.path });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = once(child, "exit");

      let deadline = Date.now() + 60_000;
      while (Date.now() < deadline && (await count()) < 300) await delay(20);
      const killedAt = await count();
      assert.ok(killedAt >= 300 && killedAt < MESSAGES, `consumption under way before the kill (${killedAt}): ${stderr}`);
      await server.kill();
      await delay(2_000);
      await server.start();
      t.diagnostic(`nats-server killed at ${killedAt} rows and restarted`);

      deadline = Date.now() + 180_000;
      while (Date.now() < deadline && (await count()) < MESSAGES) await delay(100);
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      assert.equal(await count(), MESSAGES, stderr);
      assert.equal(code, 0, `did not stop cleanly on SIGTERM: ${stderr}`);
      assert.match(stderr, /lost the connection to NATS/, "the kill was noticed");
      assert.match(stderr, /starting again/, "a run was restarted");

      const nc = await connect({ servers: server.url });
      try {
        const stored = (await (await jetstreamManager(nc)).streams.info("RESTART")).state.messages;
        assert.equal(stored, MESSAGES, "each message stored once: retried publishes were deduplicated");
      } finally {
        await nc.close();
      }
      const dead = await runCli(["dlq", "list", "--json"], { cwd: dir.path });
      assert.equal(dead.code, 0, dead.stderr);
      assert.deepEqual(JSON.parse(dead.stdout), []);
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
      await db.end();
    }
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
