import type { ConsumeMessage, Options } from "amqplib";
import type { MessageFailureReport, MessageSettlement } from "../types.js";
import type { Message } from "../../core/message.js";
import type { AmqpClient } from "./amqp-client.js";
import type { DeliveryPosition } from "./delivery-message.js";
import { DELIVERIES_HEADER } from "./delivery-message.js";

/** Longest error text put in a header (AMQP header tables are limited in size). */
const MAX_ERROR_HEADER = 2000;

export interface DeadLetterRoute {
  exchange: string;
  /** undefined: the message's own routing key. */
  routingKey: string | undefined;
}

/**
 * Per-message settlement of an AMQP delivery. Each outcome is published through a confirm
 * channel and the original acknowledged only after the confirm, so a crash in between
 * leaves the original in its queue (delivered again) rather than losing it.
 * - requeue: the message goes to the back of its queue with x-junction-deliveries + 1 and
 *   the last error, until `maxDeliveries` is reached ("exhausted").
 * - deadLetter (when a dead-letter exchange is known): published there with the error,
 *   its kind, stage, attempts and where it came from in x-junction-* headers.
 */
export function deliverySettlement(
  client: AmqpClient,
  settled: Set<ConsumeMessage>,
  integration: string,
  maxDeliveries: number,
  deadLetters: DeadLetterRoute | undefined,
): MessageSettlement {
  const settlement: MessageSettlement = {
    async requeue(message, failure) {
      if (message.attempt >= maxDeliveries) return "exhausted";
      const { delivery, consumer } = message.position as DeliveryPosition;
      const headers = { ...delivery.properties.headers, [DELIVERIES_HEADER]: message.attempt + 1, "x-junction-last-error": truncate(failure.error) };
      await publishConfirmed(client, "", consumer.queue, delivery, message, headers);
      consumer.ackOne(delivery);
      settled.add(delivery);
      return "requeued";
    },
  };
  if (deadLetters !== undefined) {
    settlement.deadLetter = async (message, failure) => {
      const { delivery, consumer } = message.position as DeliveryPosition;
      const headers = { ...delivery.properties.headers, ...failureHeaders(failure, integration, delivery, consumer.queue) };
      await publishConfirmed(client, deadLetters.exchange, deadLetters.routingKey ?? delivery.fields.routingKey, delivery, message, headers);
      consumer.ackOne(delivery);
      settled.add(delivery);
    };
  }
  return settlement;
}

function failureHeaders(failure: MessageFailureReport, integration: string, delivery: ConsumeMessage, queue: string): Record<string, unknown> {
  return {
    "x-junction-error": truncate(failure.error),
    "x-junction-error-kind": failure.kind,
    "x-junction-stage": failure.stage,
    "x-junction-attempts": failure.attempts,
    "x-junction-integration": integration,
    "x-junction-failed-at": new Date().toISOString(),
    "x-junction-original-exchange": delivery.fields.exchange,
    "x-junction-original-routing-key": delivery.fields.routingKey,
    "x-junction-original-queue": queue,
  };
}

async function publishConfirmed(
  client: AmqpClient,
  exchange: string,
  routingKey: string,
  delivery: ConsumeMessage,
  message: Message,
  headers: Record<string, unknown>,
): Promise<void> {
  const publisher = await client.settlementPublisher();
  const properties = delivery.properties;
  const options: Options.Publish & { messageId: string } = {
    headers,
    messageId: (properties.messageId as string | undefined) || message.id,
    persistent: true,
    mandatory: true,
    ...(properties.contentType ? { contentType: properties.contentType as string } : {}),
    ...(properties.contentEncoding ? { contentEncoding: properties.contentEncoding as string } : {}),
    ...(properties.correlationId ? { correlationId: properties.correlationId as string } : {}),
    ...(properties.type ? { type: properties.type as string } : {}),
    ...(properties.appId ? { appId: properties.appId as string } : {}),
    ...(properties.timestamp ? { timestamp: properties.timestamp as number } : {}),
  };
  const [error] = await publisher.publishAll([{ exchange, routingKey, content: delivery.content, options }], new AbortController().signal);
  if (error !== undefined) throw error;
}

function truncate(text: string): string {
  return text.length <= MAX_ERROR_HEADER ? text : `${text.slice(0, MAX_ERROR_HEADER)}…`;
}
