// @needs-service rabbitmq
// @needs-service postgres
// @slow
// Ordering per key under concurrency 32: messages of 40 accounts, interleaved, are written
// by up to 32 concurrent sink batches; for every account the sequence numbers arrive in order.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import pg from "pg";
import { loadConfigFromString } from "../../src/config/index.js";
import { builtinComponents } from "../../src/engine/components.js";
import { JunctionRuntime } from "../../src/engine/runtime.js";
import { createLogger } from "../../src/observability/logger.js";
import { postgresTestUrl, serviceSkipReason } from "../support/services.js";
import { tempDir } from "../support/temp-dir.js";
import { RABBIT_URL, RawRabbit, uniqueName } from "../connectors/amqp/amqp-fixtures.js";

const ACCOUNTS = 40;
const PER_ACCOUNT = 100;
const skip = (await serviceSkipReason("rabbitmq")) || (await serviceSkipReason("postgres"));

describe("ordering per key", { skip }, () => {
  const dir = tempDir();
  after(() => dir.remove());

  test(`${ACCOUNTS * PER_ACCOUNT} messages of ${ACCOUNTS} keys with concurrency 32 keep each key's order`, { timeout: 300_000 }, async (t) => {
    const queue = uniqueName("ledger");
    const table = `key_order_${process.pid}`;
    const raw = await RawRabbit.open();
    raw.track(queue);
    const db = new pg.Client({ connectionString: postgresTestUrl() });
    await db.connect();
    try {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      // arrival: the order rows were committed in (a later batch of a key starts after the earlier one committed).
      await db.query(`CREATE TABLE ${table} (arrival bigserial PRIMARY KEY, account text NOT NULL, seq int NOT NULL)`);
      await raw.queue(queue);
      for (let seq = 1; seq <= PER_ACCOUNT; seq++) {
        for (let account = 0; account < ACCOUNTS; account++) {
          raw.channel.sendToQueue(queue, Buffer.from(JSON.stringify({ account: `acct-${account}`, seq })), { persistent: true });
        }
      }
      await raw.confirmed();

      const yaml = `version: 1
name: key-order
state: sqlite:.junction/state.db
admin: false
connections:
  rabbit: { type: amqp, url: "${RABBIT_URL}" }
  db: { type: postgres, url: "${postgresTestUrl()}" }
integrations:
  ledger:
    source: { connection: rabbit, queue: "${queue}", prefetch: 2000, batch_size: 50, key: "{{ account }}" }
    target: { connection: db, table: ${table}, mode: append, columns: [account, seq] }
    sync: { trigger: continuous, batch_size: 7, batch_period: 5ms, concurrency: 32 }
`;
      const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
      const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
      const total = ACCOUNTS * PER_ACCOUNT;
      const count = async (): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n ?? 0;
      const running = runtime.run();
      try {
        const deadline = Date.now() + 120_000;
        while ((await count()) < total && Date.now() < deadline) await delay(50);
      } finally {
        runtime.shutdown();
        await running;
        await runtime.close();
      }
      assert.equal(await count(), total);
      const rows = await db.query<{ account: string; seqs: number[] }>(`SELECT account, array_agg(seq ORDER BY arrival) AS seqs FROM ${table} GROUP BY account ORDER BY account`);
      assert.equal(rows.rows.length, ACCOUNTS);
      const expected = Array.from({ length: PER_ACCOUNT }, (_, i) => i + 1);
      for (const row of rows.rows) assert.deepEqual(row.seqs, expected, `${row.account} arrived out of order`);
      // The writes really overlapped: batches of different keys committed out of publish order.
      const interleaved = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT seq, lag(seq) OVER (ORDER BY arrival) AS previous FROM ${table}) AS s WHERE seq < previous`,
      );
      t.diagnostic(`${interleaved.rows[0]?.n} places where a lower sequence number of another key arrived after a higher one`);
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.end();
      await raw.cleanup();
    }
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
