// @needs-service rabbitmq
// @needs-service postgres
// @slow
// 10,000 messages in a RabbitMQ queue, consumed into PostgreSQL by a `junction run` that is
// SIGKILLed at three random points and started again: every message arrives.
import { describe, test } from "node:test";
import { crashMessage, runBrokerCrashScenario } from "../support/broker-crash.js";
import { serviceSkipReason } from "../support/services.js";
import { RABBIT_URL, RawRabbit, uniqueName } from "../connectors/amqp/amqp-fixtures.js";

const skip = (await serviceSkipReason("rabbitmq")) || (await serviceSkipReason("postgres"));

describe("amqp consumer under SIGKILL", { skip }, () => {
  test("10,000 messages, 3 SIGKILLs: every message reaches PostgreSQL", { timeout: 600_000 }, async (t) => {
    const raw = await RawRabbit.open();
    const queue = uniqueName("crash");
    try {
      await runBrokerCrashScenario(t, {
        name: "amqp",
        connectionYaml: `  broker:\n    type: amqp\n    url: "${RABBIT_URL}"\n    queues: [{ name: "${queue}", type: quorum }]`,
        sourceOptions: `queue: "${queue}", prefetch: 500`,
        sync: "batch_size: 200",
        prepare: async () => void (await raw.queue(queue, { "x-queue-type": "quorum" })),
        publish: async (count) => {
          for (let n = 1; n <= count; n++) {
            if (!raw.channel.sendToQueue(queue, Buffer.from(JSON.stringify(crashMessage(n))), { persistent: true, messageId: `m${n}` })) {
              await new Promise((resolve) => raw.channel.once("drain", resolve));
            }
          }
          await raw.confirmed();
        },
      });
    } finally {
      await raw.cleanup();
    }
  });
});
