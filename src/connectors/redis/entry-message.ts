import type { Message } from "../../core/message.js";
import { EventDecoder } from "../shared/events/event-codec.js";
import type { BodyFormat } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { DeliveredEntry } from "./consumer-group.js";
import { CLOUDEVENTS_BINDING, CONTENT_TYPE_FIELD, MESSAGE_ID_FIELD, entryContent } from "./entry-fields.js";

/** What a stream message carries for its source: the entry id to acknowledge and the fields to dead-letter. */
export interface EntryPosition {
  stream: string;
  entryId: string;
  fields: readonly string[];
}

export interface DecodedEntry {
  message: Message;
  /** Set when the entry could not be turned into a message: the engine dead-letters it as it came. */
  invalid?: Error;
}

/**
 * Turns stream entries into messages: the `data` field decoded as JSON or text (CloudEvents
 * unwrapped), the other fields as headers, the id from `message-id`, else the CloudEvent's
 * id, else `redis:<stream>:<entry id>` — the same on every redelivery.
 */
export class EntryDecoder {
  readonly #decoder: EventDecoder;
  readonly #key: MessageTemplate | undefined;
  readonly #names: { stream: string; group: string; consumer: string };

  constructor(names: { stream: string; group: string; consumer: string }, format: BodyFormat | undefined, key: string | undefined) {
    this.#names = names;
    this.#decoder = new EventDecoder(format, CLOUDEVENTS_BINDING);
    this.#key = key === undefined ? undefined : MessageTemplate.parse(key);
  }

  async decode(entry: DeliveredEntry): Promise<DecodedEntry> {
    const { stream, group, consumer } = this.#names;
    const { body, headers } = entryContent(entry.fields);
    const decoded =
      body === undefined
        ? { payload: null, error: new Error(`stream entry ${entry.id} has no "data" field; publish the body in field "data" (other fields are headers)`) }
        : this.#decoder.decode({ body: Buffer.from(body, "utf8"), headers, contentType: headers[CONTENT_TYPE_FIELD] });
    const fallbackId = `redis:${stream}:${entry.id}`;
    const id = nonEmpty(headers[MESSAGE_ID_FIELD]) ?? ("id" in decoded ? decoded.id : undefined) ?? fallbackId;
    const metadata: Record<string, unknown> = { stream, entry_id: entry.id, group, consumer, delivery_count: entry.deliveries };
    if ("cloudevent" in decoded && decoded.cloudevent !== undefined) metadata.cloudevent = decoded.cloudevent;
    const position: EntryPosition = { stream, entryId: entry.id, fields: entry.fields };
    const message: Message = {
      id,
      payload: decoded.payload,
      headers,
      metadata,
      correlationId: ("correlationId" in decoded ? decoded.correlationId : undefined) ?? id,
      attempt: Math.max(1, entry.deliveries),
      position,
    };
    if (decoded.error !== undefined) return { message, invalid: decoded.error };
    if (this.#key === undefined) return { message };
    try {
      message.key = await this.#key.render(message);
      return { message };
    } catch (error) {
      return { message, invalid: error instanceof Error ? error : new Error(String(error)) };
    }
  }
}

export function entryPosition(message: Message): EntryPosition | undefined {
  const position = message.position as Partial<EntryPosition> | undefined;
  return typeof position?.entryId === "string" && Array.isArray(position.fields) ? (position as EntryPosition) : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
