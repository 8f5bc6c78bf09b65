/**
 * CloudEvents 1.0 envelopes (https://cloudevents.io): structured mode puts the attributes
 * and the data in one JSON body (`application/cloudevents+json`); binary mode keeps the
 * body as the data and carries the attributes as headers, named by the protocol binding
 * (`cloudEvents:` for AMQP, `ce-` for NATS and Redis, bare names for MQTT 5).
 */
export const STRUCTURED_CONTENT_TYPE = "application/cloudevents+json";
export const SPEC_VERSION = "1.0";

export interface CloudEventAttributes {
  specversion: string;
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  datacontenttype?: string;
  /** Extension attributes, e.g. traceparent (Distributed Tracing) or correlationid. */
  [extension: string]: string | undefined;
}

const REQUIRED: readonly (keyof CloudEventAttributes)[] = ["specversion", "id", "source", "type"];

/** Attribute names may only hold lower-case letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,20}$/;

export function isStructuredContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE);
}

/** The body of a structured-mode event with JSON data. */
export function structuredBody(attributes: CloudEventAttributes, data: unknown): string {
  return JSON.stringify({ ...withoutUndefined(attributes), data });
}

export interface DecodedCloudEvent {
  attributes: CloudEventAttributes;
  data: unknown;
}

/**
 * Reads a structured-mode body (already parsed JSON). Throws naming the missing attribute
 * when it is not a CloudEvent; `data_base64` is returned as a Buffer.
 */
export function readStructured(parsed: unknown): DecodedCloudEvent {
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("a structured CloudEvent must be a JSON object");
  const record = parsed as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) {
    if (name === "data" || name === "data_base64" || value === undefined || value === null) continue;
    attributes[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  checkRequired(attributes);
  const data = "data_base64" in record && typeof record.data_base64 === "string" ? Buffer.from(record.data_base64, "base64") : record.data;
  return { attributes: attributes as CloudEventAttributes, data };
}

/**
 * The attributes of a binary-mode event from headers named `<prefix><attribute>`, or
 * undefined when the headers carry no `specversion`. Throws when a required one is missing.
 */
export function readBinaryAttributes(headers: Readonly<Record<string, string>>, prefix: string, contentType: string | undefined): CloudEventAttributes | undefined {
  const lowerPrefix = prefix.toLowerCase();
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(lowerPrefix)) continue;
    const attribute = lower.slice(lowerPrefix.length);
    if (ATTRIBUTE_NAME.test(attribute)) attributes[attribute] = value;
  }
  if (attributes.specversion === undefined) return undefined;
  if (contentType !== undefined && attributes.datacontenttype === undefined) attributes.datacontenttype = contentType;
  checkRequired(attributes);
  return attributes as CloudEventAttributes;
}

/** Headers `<prefix><attribute>` for binary mode; `datacontenttype` travels as the protocol's content type instead. */
export function binaryHeaders(attributes: CloudEventAttributes, prefix: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || name === "datacontenttype") continue;
    headers[`${prefix}${name}`] = value;
  }
  return headers;
}

function checkRequired(attributes: Record<string, string>): void {
  for (const name of REQUIRED) {
    if (attributes[name] === undefined || attributes[name] === "") throw new Error(`the CloudEvent has no "${name}" attribute`);
  }
  if (attributes.specversion !== SPEC_VERSION) throw new Error(`CloudEvents specversion "${attributes.specversion}" is not supported (only ${SPEC_VERSION})`);
}

function withoutUndefined(attributes: CloudEventAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) out[name] = value;
  return out;
}
