import type { Message } from "../../../core/message.js";
import { correlationIdFrom, injectTraceHeaders } from "../../../observability/tracing.js";
import { SPEC_VERSION, STRUCTURED_CONTENT_TYPE, binaryHeaders, isStructuredContentType, readBinaryAttributes, readStructured, structuredBody } from "./cloud-events.js";
import type { CloudEventAttributes } from "./cloud-events.js";

/** How message bodies are read and written: JSON (default) or plain UTF-8 text. */
export type BodyFormat = "json" | "text";

export interface CloudEventsOptions {
  mode: "structured" | "binary";
  /** The `source` attribute; default `junction/<integration>`. */
  source?: string;
  /** The `type` attribute; default "junction.message". */
  type?: string;
}

export interface EventEncodingOptions {
  format?: BodyFormat;
  cloudevents?: CloudEventsOptions;
}

/** How a protocol names CloudEvents attributes in headers (binary mode). */
export interface CloudEventsBinding {
  /** `cloudEvents:` for AMQP, `ce-` for NATS and Redis, "" for MQTT 5 user properties. */
  headerPrefix: string;
}

export interface OutgoingEvent {
  body: Buffer;
  /** Correlation id, W3C trace context and, in binary mode, the CloudEvents attributes. */
  headers: Record<string, string>;
  contentType: string;
}

export const CORRELATION_HEADER = "x-correlation-id";
const TRACE_HEADERS = ["traceparent", "tracestate"] as const;
const JSON_CONTENT_TYPE = "application/json";
const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/**
 * Turns messages into broker bodies and headers: the payload as JSON or text, optionally in
 * a CloudEvents envelope, with `x-correlation-id` and the W3C trace context (the message's
 * own `traceparent`, else the active span's) so the consumer on the other side continues
 * the same trace and correlation.
 */
export class EventEncoder {
  readonly #format: BodyFormat;
  readonly #cloudevents: Required<CloudEventsOptions> | undefined;
  readonly #prefix: string;

  constructor(options: EventEncodingOptions, binding: CloudEventsBinding, integration: string) {
    this.#format = options.format ?? "json";
    this.#prefix = binding.headerPrefix;
    const ce = options.cloudevents;
    this.#cloudevents = ce === undefined ? undefined : { mode: ce.mode, source: ce.source ?? `junction/${integration}`, type: ce.type ?? "junction.message" };
  }

  encode(message: Message): OutgoingEvent {
    const headers = traceHeaders(message);
    const data = this.#body(message.payload);
    const ce = this.#cloudevents;
    if (ce === undefined) return { body: data, headers, contentType: this.#dataContentType() };
    const attributes: CloudEventAttributes = {
      specversion: SPEC_VERSION,
      id: message.id,
      source: ce.source,
      type: ce.type,
      time: new Date().toISOString(),
      datacontenttype: this.#dataContentType(),
      correlationid: message.correlationId,
      traceparent: headers.traceparent,
    };
    if (ce.mode === "binary") return { body: data, headers: { ...headers, ...binaryHeaders(attributes, this.#prefix) }, contentType: this.#dataContentType() };
    const payload = this.#format === "json" ? message.payload : data.toString("utf8");
    return { body: Buffer.from(structuredBody(attributes, payload ?? null)), headers, contentType: `${STRUCTURED_CONTENT_TYPE}; charset=utf-8` };
  }

  #body(payload: unknown): Buffer {
    if (Buffer.isBuffer(payload)) return payload;
    if (this.#format === "text" && typeof payload === "string") return Buffer.from(payload);
    return Buffer.from(JSON.stringify(payload ?? null));
  }

  #dataContentType(): string {
    return this.#format === "json" ? JSON_CONTENT_TYPE : TEXT_CONTENT_TYPE;
  }
}

function traceHeaders(message: Message): Record<string, string> {
  const headers: Record<string, string> = { [CORRELATION_HEADER]: message.correlationId };
  let carried = false;
  for (const name of TRACE_HEADERS) {
    const value = message.headers[name];
    if (value !== undefined) {
      headers[name] = value;
      carried = true;
    }
  }
  return carried ? headers : injectTraceHeaders(headers);
}

export interface IncomingEvent {
  body: Buffer;
  headers: Record<string, string>;
  contentType?: string | undefined;
}

export interface DecodedEvent {
  payload: unknown;
  /** The CloudEvent's attributes when the body or headers carried one. */
  cloudevent?: CloudEventAttributes;
  /** The CloudEvent's id, to use as the message id. */
  id?: string;
  /** From `x-correlation-id`, a `traceparent` or the CloudEvent's correlationid. */
  correlationId?: string;
  /** Set when the body could not be decoded: the message is dead-lettered as it came, with this error. */
  error?: Error;
}

/**
 * Reads broker bodies: JSON (or text), unwrapping CloudEvents found by their content type,
 * their binary-mode headers, or (for protocols without headers) a JSON body holding
 * `specversion`. An undecodable body is reported, not thrown, so that one poison message
 * is dead-lettered instead of stopping the consumer.
 */
export class EventDecoder {
  readonly #format: BodyFormat;
  readonly #prefix: string;

  constructor(format: BodyFormat | undefined, binding: CloudEventsBinding) {
    this.#format = format ?? "json";
    this.#prefix = binding.headerPrefix;
  }

  decode(event: IncomingEvent): DecodedEvent {
    const correlationId = correlationIdFrom(event.headers);
    try {
      const decoded = this.#decode(event);
      const id = decoded.cloudevent?.id;
      const fromEvent = correlationId ?? decoded.cloudevent?.correlationid;
      return { ...decoded, ...(id === undefined ? {} : { id }), ...(fromEvent === undefined ? {} : { correlationId: fromEvent }) };
    } catch (error) {
      return {
        payload: event.body.toString("utf8"),
        error: new Error(`could not decode the message body: ${(error as Error).message}`),
        ...(correlationId === undefined ? {} : { correlationId }),
      };
    }
  }

  #decode(event: IncomingEvent): Omit<DecodedEvent, "id" | "correlationId" | "error"> {
    if (isStructuredContentType(event.contentType)) {
      const { attributes, data } = readStructured(JSON.parse(event.body.toString("utf8")));
      return { payload: data, cloudevent: attributes };
    }
    const binary = readBinaryAttributes(event.headers, this.#prefix, event.contentType);
    if (binary !== undefined) return { payload: this.#data(event.body, binary.datacontenttype), cloudevent: binary };
    if (this.#format === "text") return { payload: event.body.toString("utf8") };
    const parsed: unknown = JSON.parse(event.body.toString("utf8"));
    if (event.contentType === undefined && isStructuredShape(parsed)) {
      const { attributes, data } = readStructured(parsed);
      return { payload: data, cloudevent: attributes };
    }
    return { payload: parsed };
  }

  #data(body: Buffer, contentType: string | undefined): unknown {
    const isJson = contentType === undefined ? this.#format === "json" : /[/+]json\b/i.test(contentType);
    return isJson ? JSON.parse(body.toString("utf8")) : body.toString("utf8");
  }
}

function isStructuredShape(parsed: unknown): boolean {
  return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && typeof (parsed as Record<string, unknown>).specversion === "string";
}

/** Header values as strings: brokers hand over numbers, Buffers and nested tables too. */
export function stringHeaders(raw: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined) return headers;
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string") headers[name] = value;
    else if (Buffer.isBuffer(value)) headers[name] = value.toString("utf8");
    else if (typeof value === "object") headers[name] = JSON.stringify(value);
    else headers[name] = String(value);
  }
  return headers;
}
