// @needs-service redis
// @needs-service postgres
// @slow
// 10,000 entries in a Redis Stream, consumed through a consumer group into PostgreSQL by a
// `junction run` that is SIGKILLed at three random points and started again: each restart
// reads its own pending entries first (same consumer name), and every message arrives.
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import { crashMessage, runBrokerCrashScenario } from "../support/broker-crash.js";
import { serviceSkipReason } from "../support/services.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const skip = (await serviceSkipReason("redis")) || (await serviceSkipReason("postgres"));

describe("redis stream consumer under SIGKILL", { skip }, () => {
  test("10,000 entries, 3 SIGKILLs: every message reaches PostgreSQL", { timeout: 600_000 }, async (t) => {
    const raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    const stream = `junction-test:crash:${process.pid}:${randomBytes(3).toString("hex")}`;
    try {
      await runBrokerCrashScenario(t, {
        name: "redis",
        connectionYaml: `  broker:\n    type: redis\n    url: "${REDIS_URL}"`,
        sourceOptions: `stream: "${stream}", group: crash, start: earliest`,
        sync: "batch_size: 200",
        publish: async (count) => {
          for (let from = 1; from <= count; from += 1000) {
            const pipeline = raw.pipeline();
            for (let n = from; n < Math.min(from + 1000, count + 1); n++) pipeline.xadd(stream, "*", "data", JSON.stringify(crashMessage(n)), "message-id", `m${n}`);
            for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
          }
        },
      });
    } finally {
      await raw.del(stream);
      raw.disconnect();
    }
  });
});
