import type { ConsumeMessage } from "amqplib";
import { newId } from "../../core/ids.js";
import type { Message } from "../../core/message.js";
import type { EventDecoder } from "../shared/events/event-codec.js";
import { stringHeaders } from "../shared/events/event-codec.js";
import type { AmqpConsumer } from "./amqp-consumer.js";

/** Header Junction sets when it hands a message back to its queue: deliveries so far. */
export const DELIVERIES_HEADER = "x-junction-deliveries";

/** What the source keeps in `Message.position` to settle a message. */
export interface DeliveryPosition {
  delivery: ConsumeMessage;
  consumer: AmqpConsumer;
}

export interface DecodedDelivery {
  message: Message;
  /** Why the body could not be decoded, when it could not. */
  error?: Error;
}

/**
 * A delivery as a Message: the body decoded (CloudEvents unwrapped), the headers as strings,
 * the id from the publisher's message_id (else the CloudEvent's, else a fresh one), and the
 * attempt from Junction's own delivery counter or a quorum queue's x-delivery-count.
 */
export function deliveryToMessage(delivery: ConsumeMessage, consumer: AmqpConsumer, decoder: EventDecoder): DecodedDelivery {
  const { properties, fields } = delivery;
  const headers = stringHeaders(properties.headers as Record<string, unknown> | undefined);
  const decoded = decoder.decode({ body: delivery.content, headers, contentType: properties.contentType as string | undefined });
  const messageId = (properties.messageId as string | undefined) || decoded.id || newId();
  const metadata: Record<string, unknown> = {
    queue: consumer.queue,
    exchange: fields.exchange,
    routing_key: fields.routingKey,
    redelivered: fields.redelivered,
  };
  if (properties.contentType) metadata.content_type = properties.contentType;
  if (properties.type) metadata.type = properties.type;
  if (properties.appId) metadata.app_id = properties.appId;
  if (properties.timestamp) metadata.timestamp = properties.timestamp;
  if (decoded.cloudevent) metadata.cloudevent = decoded.cloudevent;
  const correlation = decoded.correlationId ?? (properties.correlationId as string | undefined) ?? messageId;
  const message: Message = {
    id: messageId,
    payload: decoded.payload,
    headers,
    metadata,
    correlationId: correlation,
    attempt: deliveries(properties.headers as Record<string, unknown> | undefined),
    position: { delivery, consumer } satisfies DeliveryPosition,
  };
  return decoded.error === undefined ? { message } : { message, error: decoded.error };
}

function deliveries(headers: Record<string, unknown> | undefined): number {
  const own = Number(headers?.[DELIVERIES_HEADER] ?? 1);
  // Quorum queues count earlier deliveries in x-delivery-count (absent on the first).
  const quorum = Number(headers?.["x-delivery-count"] ?? 0) + 1;
  const count = Math.max(Number.isFinite(own) ? own : 1, Number.isFinite(quorum) ? quorum : 1);
  return Math.max(1, Math.floor(count));
}
