import { createHash } from "node:crypto";
import jsonata from "jsonata";
import type { Message } from "../../core/message.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { HttpMethod, OutgoingRequest } from "./http-client.js";
import type { HttpSinkOptions } from "./schema.js";

export const DEFAULT_IDEMPOTENCY_HEADER = "Idempotency-Key";

/** A request before the client adds the base URL, default headers and auth. */
export type BuiltRequest = Omit<OutgoingRequest, "maxBody">;

/**
 * Turns a message into its request: path, query and headers from `{{ }}` templates, the body
 * from a JSONata expression compiled once, and an Idempotency-Key that is the same on every
 * attempt of the message (derived from the integration and the message id, which the engine
 * keeps across retries and dead-letter replays).
 */
export class RequestBuilder {
  readonly #method: HttpMethod;
  readonly #path: MessageTemplate;
  readonly #query: (readonly [string, MessageTemplate])[];
  readonly #headers: (readonly [string, MessageTemplate])[];
  readonly #body: jsonata.Expression | undefined;
  readonly #idempotency: { header: string; value: MessageTemplate | undefined } | undefined;
  readonly #integration: string;

  constructor(options: HttpSinkOptions, integration: string) {
    this.#method = options.method ?? "POST";
    this.#path = MessageTemplate.parse(options.path ?? "");
    this.#query = Object.entries(options.query ?? {}).map(([name, value]) => [name, MessageTemplate.parse(value)] as const);
    this.#headers = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), MessageTemplate.parse(value)] as const);
    this.#body = options.body === undefined ? undefined : jsonata(options.body);
    const idempotency = options.idempotency_key ?? true;
    this.#idempotency =
      idempotency === false
        ? undefined
        : {
            header: (idempotency === true ? DEFAULT_IDEMPOTENCY_HEADER : (idempotency.header ?? DEFAULT_IDEMPOTENCY_HEADER)).toLowerCase(),
            value: idempotency === true || idempotency.value === undefined ? undefined : MessageTemplate.parse(idempotency.value),
          };
    this.#integration = integration;
  }

  get method(): HttpMethod {
    return this.#method;
  }

  /** Throws (a permanent failure of that message) when a template or the body expression fails. */
  async build(message: Message): Promise<BuiltRequest> {
    const headers: Record<string, string> = {};
    for (const [name, template] of this.#headers) headers[name] = await template.render(message);
    const query: [string, string][] = [];
    for (const [name, template] of this.#query) query.push([name, await template.render(message)]);
    if (this.#idempotency !== undefined) {
      headers[this.#idempotency.header] = this.#idempotency.value === undefined ? idempotencyKey(this.#integration, message.id) : await this.#idempotency.value.render(message);
    }
    headers["x-correlation-id"] ??= message.correlationId;
    const body = await this.#renderBody(message, headers);
    return { method: this.#method, path: await this.#path.render(message), query, headers, ...(body === undefined ? {} : { body }) };
  }

  async #renderBody(message: Message, headers: Record<string, string>): Promise<string | Buffer | undefined> {
    let value: unknown;
    if (this.#body !== undefined) {
      const bindings = { message: { id: message.id, key: message.key, headers: message.headers, metadata: message.metadata, correlation_id: message.correlationId } };
      try {
        value = await this.#body.evaluate(message.payload, bindings);
      } catch (error) {
        throw new Error(`the body expression failed for message ${message.id}: ${(error as Error).message}`, { cause: error });
      }
    } else {
      if (this.#method === "GET" || this.#method === "DELETE") return undefined;
      value = message.payload;
    }
    if (value === undefined) return undefined;
    if (value instanceof Uint8Array) {
      headers["content-type"] ??= "application/octet-stream";
      return Buffer.from(value);
    }
    if (typeof value === "string" && this.#body !== undefined) {
      headers["content-type"] ??= "text/plain; charset=utf-8";
      return value;
    }
    headers["content-type"] ??= "application/json";
    return JSON.stringify(value);
  }
}

/**
 * The default idempotency key: a UUID-shaped SHA-256 of the integration and the message id,
 * so it is header-safe and short whatever the id looks like, stable across retries, and
 * different for two integrations that send the same message.
 */
export function idempotencyKey(integration: string, messageId: string): string {
  const hex = createHash("sha256").update(`${integration}\u0000${messageId}`).digest("hex");
  // RFC 9562 version 8 (custom) and variant bits.
  const variant = ((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
