import type { IClientPublishOptions, IPublishPacket } from "mqtt";

/** The user property that carries the message id (set by the sink, read by the source). */
export const MESSAGE_ID_PROPERTY = "message-id";
export const CONTENT_TYPE_HEADER = "content-type";
export const CORRELATION_DATA_HEADER = "correlation-data";
export const RESPONSE_TOPIC_HEADER = "response-topic";

type PublishProperties = NonNullable<IClientPublishOptions["properties"]>;

/**
 * The headers of an incoming MQTT 5 message: its user properties (a name given several
 * times keeps all values, joined with ", "), plus the content type, correlation data and
 * response topic of the PUBLISH. MQTT 3.1.1 messages have none.
 */
export function headersOf(packet: IPublishPacket): Record<string, string> {
  const headers: Record<string, string> = {};
  const properties = packet.properties;
  if (properties === undefined) return headers;
  for (const [name, value] of Object.entries(properties.userProperties ?? {})) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  if (properties.contentType !== undefined) headers[CONTENT_TYPE_HEADER] = properties.contentType;
  if (properties.correlationData !== undefined) headers[CORRELATION_DATA_HEADER] = properties.correlationData.toString("utf8");
  if (properties.responseTopic !== undefined) headers[RESPONSE_TOPIC_HEADER] = properties.responseTopic;
  return headers;
}

/** MQTT 5 properties of an outgoing message: the headers as user properties, the message id, the content type. */
export function publishProperties(headers: Readonly<Record<string, string>>, messageId: string, contentType: string): PublishProperties {
  return { userProperties: { ...headers, [MESSAGE_ID_PROPERTY]: messageId }, contentType };
}
