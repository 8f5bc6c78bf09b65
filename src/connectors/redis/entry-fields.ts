import type { Message } from "../../core/message.js";
import type { OutgoingEvent } from "../shared/events/event-codec.js";

/**
 * How a message is laid out in a stream entry: field `data` holds the body, every other
 * field is a header (`content-type`, `message-id`, `x-correlation-id`, `traceparent`,
 * `ce-…` CloudEvents attributes in binary mode).
 */
export const DATA_FIELD = "data";
export const CONTENT_TYPE_FIELD = "content-type";
export const MESSAGE_ID_FIELD = "message-id";
/** Headers of the binding: NATS and Redis name CloudEvents attributes `ce-<attribute>`. */
export const CLOUDEVENTS_BINDING = { headerPrefix: "ce-" } as const;

export interface EntryContent {
  /** undefined when the entry has no `data` field. */
  body: string | undefined;
  headers: Record<string, string>;
}

/** Splits an entry's field list into its body and headers; a repeated field keeps its last value. */
export function entryContent(fields: readonly string[]): EntryContent {
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    if (name === DATA_FIELD) body = value;
    else headers[name] = value;
  }
  return { body, headers };
}

/** The field list of an outgoing message: data first, then content type, message id and the encoder's headers. */
export function eventFields(message: Message, event: OutgoingEvent): string[] {
  const fields = [DATA_FIELD, event.body.toString("utf8"), CONTENT_TYPE_FIELD, event.contentType, MESSAGE_ID_FIELD, message.id];
  for (const [name, value] of Object.entries(event.headers)) {
    if (name === DATA_FIELD || name === CONTENT_TYPE_FIELD || name === MESSAGE_ID_FIELD) continue;
    fields.push(name, value);
  }
  return fields;
}
