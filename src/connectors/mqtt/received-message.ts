import { newId } from "../../core/ids.js";
import { createMessage } from "../../core/message.js";
import type { Message } from "../../core/message.js";
import type { EventDecoder } from "../shared/events/event-codec.js";
import type { ReceivedPublish } from "./inbox.js";
import { CONTENT_TYPE_HEADER, MESSAGE_ID_PROPERTY, headersOf } from "./publish-properties.js";

export interface ReadMessage {
  message: Message;
  /** Set when the body could not be decoded: the engine dead-letters the message as it came. */
  error?: Error;
}

/**
 * A received PUBLISH as a message: id from the `message-id` user property or the
 * CloudEvent's id (else a fresh one: MQTT has no id of its own), the decoded payload,
 * headers from the MQTT 5 properties, and the broker facts in metadata. The dup flag is
 * the only delivery count MQTT gives: attempt 2 when it is set.
 */
export function readMessage(received: ReceivedPublish, decoder: EventDecoder): ReadMessage {
  const { packet } = received;
  const headers = headersOf(packet);
  const decoded = decoder.decode({ body: received.payload, headers, contentType: headers[CONTENT_TYPE_HEADER] });
  const id = headers[MESSAGE_ID_PROPERTY] ?? decoded.id ?? newId();
  const metadata: Record<string, unknown> = { topic: received.topic, qos: packet.qos, retain: packet.retain, dup: packet.dup };
  if (decoded.cloudevent !== undefined) metadata.cloudevent = decoded.cloudevent;
  const message = createMessage({
    id,
    payload: decoded.payload,
    headers,
    metadata,
    correlationId: decoded.correlationId ?? id,
    attempt: packet.dup ? 2 : 1,
    position: received,
  });
  return decoded.error === undefined ? { message } : { message, error: decoded.error };
}
