import type { ConsumeMessage } from "amqplib";
import type { Batch, Source, SourceContext } from "../types.js";
import type { Message } from "../../core/message.js";
import { EventDecoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { AmqpClient } from "./amqp-client.js";
import { AmqpConsumer } from "./amqp-consumer.js";
import { deliveryToMessage } from "./delivery-message.js";
import type { DeliveryPosition } from "./delivery-message.js";
import { deliverySettlement } from "./delivery-settlement.js";
import type { DeadLetterRoute } from "./delivery-settlement.js";
import type { AmqpConnectionConfig, AmqpSourceOptions } from "./schema.js";

/** With trigger once, the run ends when no delivery arrives for this long. */
const ONCE_IDLE_MS = 500;

/** AMQP prefix of CloudEvents attributes in binary mode (CloudEvents AMQP binding). */
export const AMQP_CLOUDEVENTS_PREFIX = "cloudEvents:";

/**
 * Consumes a queue with manual acknowledgements. A batch is what the prefetch window has
 * delivered (up to the batch size); it is acknowledged with one multiple-ack once every
 * message is written or dead-lettered. A lost connection ends the run with a transient
 * error; the engine starts it again with backoff, which reconnects and re-declares the topology.
 */
export function createAmqpSource(client: AmqpClient, connection: AmqpConnectionConfig, options: AmqpSourceOptions, ctx: SourceContext): Source {
  const batchSize = options.batch_size ?? ctx.batchSize;
  const prefetch = options.prefetch ?? Math.min(65_535, batchSize * 2);
  const decoder = new EventDecoder(options.format, { headerPrefix: AMQP_CLOUDEVENTS_PREFIX });
  const key = options.key === undefined ? undefined : MessageTemplate.parse(options.key);
  const deadLetters = deadLetterRoute(connection, options);
  const maxDeliveries = options.max_deliveries ?? 5;
  let consumer: AmqpConsumer | undefined;

  async function toBatch(deliveries: ConsumeMessage[], from: AmqpConsumer): Promise<Batch> {
    const messages: Message[] = [];
    let invalid: Map<Message, Error> | undefined;
    for (const delivery of deliveries) {
      const decoded = deliveryToMessage(delivery, from, decoder);
      if (decoded.error !== undefined) (invalid ??= new Map()).set(decoded.message, decoded.error);
      else if (key !== undefined) {
        try {
          decoded.message.key = await key.render(decoded.message);
        } catch (error) {
          (invalid ??= new Map()).set(decoded.message, error as Error);
        }
      }
      messages.push(decoded.message);
    }
    const settled = new Set<ConsumeMessage>();
    const unsettled = (): ConsumeMessage[] => messages.map((message) => (message.position as DeliveryPosition).delivery).filter((delivery) => !settled.has(delivery));
    return {
      messages,
      ...(invalid === undefined ? {} : { invalid }),
      settlement: deliverySettlement(client, settled, ctx.integration, maxDeliveries, deadLetters),
      async ack() {
        const open = unsettled();
        const last = open[open.length - 1];
        if (last !== undefined) from.ackUpTo(last);
      },
      async nack(_reason, requeue) {
        if (requeue) from.requeue(unsettled());
      },
    };
  }

  return {
    async *batches(signal) {
      const current = await AmqpConsumer.start(client, options.queue, prefetch, ctx.logger, options.consumer_tag);
      consumer = current;
      try {
        for (;;) {
          const deliveries = await current.take(batchSize, signal, ctx.follow ? undefined : ONCE_IDLE_MS);
          if (deliveries.length === 0) return;
          yield await toBatch(deliveries, current);
        }
      } finally {
        await current.cancel();
      }
    },
    async close() {
      await consumer?.close();
      consumer = undefined;
    },
  };
}

function deadLetterRoute(connection: AmqpConnectionConfig, options: AmqpSourceOptions): DeadLetterRoute | undefined {
  const queue = connection.queues?.find((candidate) => candidate.name === options.queue);
  const exchange = options.dead_letter_exchange ?? queue?.dead_letter_exchange;
  if (exchange === undefined) return undefined;
  return { exchange, routingKey: options.dead_letter_routing_key ?? queue?.dead_letter_routing_key };
}
