import type { Message } from "../../core/message.js";
import { EventDecoder } from "../shared/events/event-codec.js";
import type { BodyFormat } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { headerValue } from "./header-map.js";

export const NATS_BINDING = { headerPrefix: "ce-" } as const;
export const MSG_ID_HEADER = "Nats-Msg-Id";

/** What a NATS message brings, core or JetStream. */
export interface IncomingNatsMessage {
  subject: string;
  body: Uint8Array;
  headers: Record<string, string>;
  /** The id when the message carries none (Nats-Msg-Id, CloudEvent id): broker-derived and stable across redeliveries. */
  fallbackId: string;
  metadata: Record<string, unknown>;
  attempt: number;
  position?: unknown;
}

export interface ReadMessage {
  message: Message;
  /** Why the body (or the key) could not be read: the engine dead-letters the message as it came. */
  error?: Error;
}

/**
 * Turns NATS messages into Junction messages: the body decoded (JSON or text, CloudEvents
 * unwrapped), every header kept as a string, the id taken from Nats-Msg-Id or the
 * CloudEvent id, the correlation id from x-correlation-id / traceparent, the key from the
 * `key` template.
 */
export class MessageReader {
  readonly #decoder: EventDecoder;
  readonly #key: MessageTemplate | undefined;

  constructor(format: BodyFormat | undefined, key: string | undefined) {
    this.#decoder = new EventDecoder(format, NATS_BINDING);
    this.#key = key === undefined ? undefined : MessageTemplate.parse(key);
  }

  async read(incoming: IncomingNatsMessage): Promise<ReadMessage> {
    const { headers } = incoming;
    const body = Buffer.from(incoming.body.buffer, incoming.body.byteOffset, incoming.body.byteLength);
    const decoded = this.#decoder.decode({ body, headers, contentType: headerValue(headers, "content-type") });
    const id = nonEmpty(headerValue(headers, MSG_ID_HEADER)) ?? decoded.id ?? incoming.fallbackId;
    const metadata: Record<string, unknown> = { ...incoming.metadata, subject: incoming.subject };
    if (decoded.cloudevent !== undefined) metadata.cloudevent = decoded.cloudevent;
    const message: Message = {
      id,
      payload: decoded.payload,
      headers,
      metadata,
      correlationId: decoded.correlationId ?? id,
      attempt: incoming.attempt,
    };
    if (incoming.position !== undefined) message.position = incoming.position;
    if (decoded.error !== undefined) return { message, error: decoded.error };
    if (this.#key !== undefined) {
      try {
        message.key = await this.#key.render(message);
      } catch (error) {
        return { message, error: error as Error };
      }
    }
    return { message };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
