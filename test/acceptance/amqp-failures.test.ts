// @needs-service rabbitmq
// @slow
// A RabbitMQ consumer writing to PostgreSQL: one poison message is dead-lettered into the
// queue's dead-letter exchange with its error while the others keep flowing, and the
// target going down for 5 seconds is retried, not dead-lettered.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { loadConfigFromString } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { privatePostgresSkipReason, startPrivatePostgres } from "../support/private-postgres.js";
import type { PrivatePostgres } from "../support/private-postgres.js";
import { serviceSkipReason } from "../support/services.js";
import { tempDir } from "../support/temp-dir.js";
import { RABBIT_URL, RawRabbit, uniqueName } from "../connectors/amqp/amqp-fixtures.js";

const MESSAGES = 2_000;
const POISON = 777;
const skip = (await serviceSkipReason("rabbitmq")) || privatePostgresSkipReason();

describe("amqp consumer: poison message and target outage", { skip }, () => {
  const dir = tempDir();
  let server: PrivatePostgres;
  let raw: RawRabbit;
  let db: pg.Client;

  before(async () => {
    server = await startPrivatePostgres({ databases: ["shop"] });
    raw = await RawRabbit.open();
  });
  after(async () => {
    await db?.end().catch(() => undefined);
    await raw?.cleanup();
    await server?.destroy();
    dir.remove();
  });

  async function count(): Promise<number> {
    for (;;) {
      try {
        db ??= await connected(server.urlFor("shop"));
        return (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM orders")).rows[0]?.n ?? 0;
      } catch {
        await db?.end().catch(() => undefined);
        db = undefined as unknown as pg.Client;
        await delay(200);
      }
    }
  }

  test("the poison message goes to the dead-letter exchange with its error; a 5 s outage is retried; everything else arrives", { timeout: 300_000 }, async () => {
    const queue = uniqueName("orders");
    const dlx = uniqueName("orders.dlx");
    const dead = uniqueName("orders.dead");
    raw.track(queue, dead);
    raw.trackExchange(dlx);
    db = await connected(server.urlFor("shop"));
    await db.query("CREATE TABLE orders (id int PRIMARY KEY, amount numeric NOT NULL CHECK (amount >= 0))");

    const yaml = `version: 1
name: amqp-failures
state: sqlite:.junction/state.db
admin: false
connections:
  rabbit:
    type: amqp
    url: "${RABBIT_URL}"
    exchanges: [{ name: "${dlx}", type: fanout }]
    queues:
      - { name: "${queue}", dead_letter_exchange: "${dlx}" }
      - { name: "${dead}" }
    bindings: [{ exchange: "${dlx}", queue: "${dead}" }]
  shop: { type: postgres, url: "${server.urlFor("shop")}" }
integrations:
  orders:
    source: { connection: rabbit, queue: "${queue}", prefetch: 100, max_deliveries: 3 }
    target: { connection: shop, table: orders, mode: upsert, key: id }
    sync: { trigger: continuous, batch_size: 50, batch_period: 50ms }
    resilience: { retry: { attempts: 40, base_delay: 100ms, max_delay: 1s } }
`;
    const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
    // Declare the topology before publishing.
    assert.equal((await (await runtime.connections.get("rabbit")).health(new AbortController().signal)).status, "healthy");
    for (let id = 1; id <= MESSAGES; id++) {
      raw.channel.sendToQueue(queue, Buffer.from(JSON.stringify({ id, amount: id === POISON ? -1 : id / 10 })), { persistent: true, messageId: `order-${id}` });
    }
    await raw.confirmed();

    const running = runtime.run();
    try {
      while ((await count()) < 300) await delay(20);
      await server.stop("fast");
      await delay(5_000);
      await server.start();
      const deadline = Date.now() + 120_000;
      while ((await count()) < MESSAGES - 1 && Date.now() < deadline) await delay(100);
      assert.equal(await count(), MESSAGES - 1, "every message but the poison one arrived");
    } finally {
      runtime.shutdown();
      await running;
    }
    const runs = await runtime.state.listRuns({ integration: "orders" });
    await runtime.close();

    const letters = await raw.drain(dead);
    assert.equal(letters.length, 1, "exactly one dead letter");
    const letter = letters[0] as (typeof letters)[number];
    assert.equal(letter.properties.messageId, `order-${POISON}`);
    const headers = letter.properties.headers as Record<string, unknown>;
    assert.match(String(headers["x-junction-error"]), /check constraint/i);
    assert.equal(String(headers["x-junction-error-kind"]), "permanent");
    assert.equal(String(headers["x-junction-stage"]), "sink");
    assert.deepEqual(JSON.parse(letter.content.toString()), { id: POISON, amount: -1 });
    assert.equal(await raw.count(queue), 0, "nothing left unacknowledged");
    const retried = runs.reduce((sum, run) => sum + (run.counts?.retried ?? 0), 0);
    assert.ok(retried > 0, "the outage was retried");
    const deadLettered = runs.reduce((sum, run) => sum + (run.counts?.deadLettered ?? 0), 0);
    assert.equal(deadLettered, 1, "only the poison message was dead-lettered");
  });
});

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
