import type { MsgHdrs } from "@nats-io/transport-node";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { natsHeaders } from "./header-map.js";
import { NATS_BINDING } from "./message-reader.js";
import type { NatsSinkOptions } from "./schema.js";

export interface OutgoingNatsMessage {
  subject: string;
  body: Uint8Array;
  headers: MsgHdrs;
}

/**
 * Renders what a target publishes for a message: the subject template, the body (JSON or
 * text, optionally a CloudEvent), correlation and trace headers, Content-Type and the
 * configured extra headers. A template or header that cannot be rendered fails that
 * message (permanent).
 */
export class OutgoingMessages {
  readonly #subject: MessageTemplate;
  readonly #encoder: EventEncoder;
  readonly #headers: ReadonlyArray<readonly [string, MessageTemplate]>;

  constructor(options: NatsSinkOptions, integration: string) {
    this.#subject = MessageTemplate.parse(options.subject);
    const encoding = { ...(options.format === undefined ? {} : { format: options.format }), ...(options.cloudevents === undefined ? {} : { cloudevents: options.cloudevents }) };
    this.#encoder = new EventEncoder(encoding, NATS_BINDING, integration);
    this.#headers = Object.entries(options.headers ?? {}).map(([name, value]) => [name, MessageTemplate.parse(value)] as const);
  }

  async render(message: Message): Promise<OutgoingNatsMessage> {
    try {
      const subject = await this.#subject.render(message);
      if (!/^[^\s*>]+$/.test(subject) || subject.startsWith(".") || subject.endsWith(".") || subject.includes("..")) {
        throw new Error(`"${subject}" is not a subject to publish to (no spaces, wildcards or empty tokens)`);
      }
      const event = this.#encoder.encode(message);
      const headers: Record<string, string> = { ...event.headers, "Content-Type": event.contentType };
      for (const [name, template] of this.#headers) headers[name] = await template.render(message);
      return { subject, body: event.body, headers: natsHeaders(headers) };
    } catch (error) {
      throw permanentError(`message ${message.id}: ${(error as Error).message}`, { code: "nats.render", cause: error });
    }
  }
}
