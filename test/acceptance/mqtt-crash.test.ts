// @needs-service mqtt
// @needs-service postgres
// @slow
// 10,000 messages wait in a persistent MQTT session and are consumed into PostgreSQL by a
// `junction run` that is SIGKILLed at three random points and started again: each restart
// resumes the same session (same client id), the broker sends the unacknowledged messages
// again, and every message arrives. A private Mosquitto holds them: the shared one keeps at
// most 1000 queued messages for an offline session and drops the rest.
import { after, before, describe, test } from "node:test";
import { connectAsync } from "mqtt";
import { crashMessage, runBrokerCrashScenario } from "../support/broker-crash.js";
import { privateMosquittoSkipReason, startPrivateMosquitto } from "../support/private-mosquitto.js";
import type { PrivateMosquitto } from "../support/private-mosquitto.js";
import { serviceSkipReason } from "../support/services.js";

const skip = privateMosquittoSkipReason() || (await serviceSkipReason("postgres"));

describe("mqtt persistent session consumer under SIGKILL", { skip }, () => {
  let broker: PrivateMosquitto;
  before(async () => {
    broker = await startPrivateMosquitto(["max_queued_messages 0", "max_inflight_messages 1000"]);
  });
  after(() => broker?.destroy());

  test("10,000 messages, 3 SIGKILLs: every message reaches PostgreSQL", { timeout: 600_000 }, async (t) => {
    const clientId = `junction-crash-${process.pid}`;
    const topic = `junction-test/crash/${process.pid}`;
    await runBrokerCrashScenario(t, {
      name: "mqtt",
      connectionYaml: `  broker:\n    type: mqtt\n    url: "${broker.url}"\n    client_id: ${clientId}\n    max_in_flight: 1000`,
      sourceOptions: `topics: ["${topic}"], qos: 1`,
      sync: "batch_size: 200",
      // The session and its subscription must exist before publishing, or the broker keeps nothing.
      prepare: async () => {
        const consumer = await connectAsync(broker.url, { clientId, clean: false, protocolVersion: 5, reconnectPeriod: 0, properties: { sessionExpiryInterval: 0xffffffff } });
        await consumer.subscribeAsync(topic, { qos: 1 });
        await consumer.endAsync();
      },
      publish: async (count) => {
        const publisher = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
        try {
          for (let from = 1; from <= count; from += 500) {
            const sent: Promise<unknown>[] = [];
            for (let n = from; n < Math.min(from + 500, count + 1); n++) {
              sent.push(publisher.publishAsync(topic, JSON.stringify(crashMessage(n)), { qos: 1, properties: { userProperties: { "message-id": `m${n}` } } }));
            }
            await Promise.all(sent);
          }
        } finally {
          await publisher.endAsync();
        }
      },
    });
  });
});
