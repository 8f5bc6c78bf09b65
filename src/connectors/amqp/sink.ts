import type { Options } from "amqplib";
import type { Message } from "../../core/message.js";
import { permanentError } from "../../core/errors.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { AmqpClient } from "./amqp-client.js";
import { ConfirmPublisher } from "./confirm-publisher.js";
import type { PublishRequest } from "./confirm-publisher.js";
import type { AmqpSinkOptions } from "./schema.js";
import { AMQP_CLOUDEVENTS_PREFIX } from "./source.js";

/**
 * Publishes every message of a write through one long-lived confirm channel, all in flight
 * at once, and reports each message as written only once RabbitMQ confirmed it; messages
 * are persistent and mandatory by default, so neither a broker restart nor a missing
 * binding drops one silently. A lost channel fails the unconfirmed messages as transient:
 * the engine retries them on a new connection (duplicates are possible then; the message id
 * travels as message_id for consumers that deduplicate).
 */
export function createAmqpSink(client: AmqpClient, options: AmqpSinkOptions, ctx: SinkContext): Sink {
  const exchange = options.exchange ?? "";
  const routingKey = MessageTemplate.parse(options.routing_key);
  const headerTemplates = Object.entries(options.headers ?? {}).map(([name, value]) => [name, MessageTemplate.parse(value)] as const);
  const encoder = new EventEncoder(options, { headerPrefix: AMQP_CLOUDEVENTS_PREFIX }, ctx.integration);
  const persistent = options.persistent ?? true;
  const mandatory = options.mandatory ?? true;
  const maxInFlight = options.max_in_flight ?? 1000;
  let publisher: ConfirmPublisher | undefined;

  async function request(message: Message): Promise<PublishRequest> {
    const event = encoder.encode(message);
    const headers: Record<string, unknown> = event.headers;
    for (const [name, template] of headerTemplates) headers[name] = await template.render(message);
    const publishOptions: Options.Publish & { messageId: string } = {
      messageId: message.id,
      correlationId: message.correlationId,
      contentType: event.contentType,
      persistent,
      mandatory,
      timestamp: Math.floor(Date.now() / 1000),
      headers,
    };
    return { exchange, routingKey: await routingKey.render(message), content: event.body, options: publishOptions };
  }

  return {
    async write(messages, signal): Promise<WriteOutcome> {
      const failures: MessageFailure[] = [];
      const requests: PublishRequest[] = [];
      const indexes: number[] = [];
      for (let index = 0; index < messages.length; index++) {
        try {
          requests.push(await request(messages[index] as Message));
          indexes.push(index);
        } catch (error) {
          failures.push({ index, error: permanentError(`building the message to publish: ${(error as Error).message}`, { cause: error }) });
        }
      }
      if (requests.length === 0) return { failures };
      if (publisher === undefined || publisher.closed) publisher = new ConfirmPublisher(await client.confirmChannel(), maxInFlight);
      const outcomes = await publisher.publishAll(requests, signal);
      outcomes.forEach((error, position) => {
        if (error !== undefined) failures.push({ index: indexes[position] as number, error });
      });
      return { failures };
    },
    async close() {
      await publisher?.close();
      publisher = undefined;
    },
  };
}
