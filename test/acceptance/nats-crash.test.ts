// @needs-service nats
// @needs-service postgres
// @slow
// 10,000 messages in a JetStream stream (declared from the connection's config), consumed
// through a durable pull consumer into PostgreSQL by a `junction run` that is SIGKILLed at
// three random points and started again: what a killed process held unacknowledged comes
// back after ack_wait, and every message arrives.
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { crashMessage, runBrokerCrashScenario } from "../support/broker-crash.js";
import { serviceSkipReason } from "../support/services.js";

const NATS_URL = "nats://127.0.0.1:4222";
const skip = (await serviceSkipReason("nats")) || (await serviceSkipReason("postgres"));

describe("nats JetStream consumer under SIGKILL", { skip }, () => {
  test("10,000 messages, 3 SIGKILLs: every message reaches PostgreSQL", { timeout: 600_000 }, async (t) => {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const stream = `JT_CRASH_${process.pid}_${randomBytes(3).toString("hex").toUpperCase()}`;
    try {
      await runBrokerCrashScenario(t, {
        name: "nats",
        connectionYaml: `  broker:\n    type: nats\n    servers: "${NATS_URL}"\n    streams:\n      - { name: ${stream}, subjects: ["${stream}.>"] }`,
        // A short ack_wait: what a killed process held comes back within seconds.
        sourceOptions: `stream: ${stream}, consumer: crash, ack_wait: 5s`,
        sync: "batch_size: 200",
        prepare: async () => {
          await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
        },
        publish: async (count) => {
          for (let from = 1; from <= count; from += 500) {
            const acks: Promise<unknown>[] = [];
            for (let n = from; n < Math.min(from + 500, count + 1); n++) acks.push(js.publish(`${stream}.orders`, JSON.stringify(crashMessage(n)), { msgID: `m${n}` }));
            await Promise.all(acks);
          }
        },
      });
    } finally {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    }
  });
});
