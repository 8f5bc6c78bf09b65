import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";
import { bodyFormatField, cloudEventsField, keyField } from "../shared/events/event-fields.js";

const argumentsField = Type.Record(Type.String(), Type.Unknown(), { description: "Extra `x-…` arguments passed to RabbitMQ as they are." });

export const ExchangeSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Exchange name." }),
    type: Type.String({ minLength: 1, description: "direct, fanout, topic, headers, or a plugin type such as x-delayed-message. Default direct.", default: "direct" }),
    durable: Type.Optional(Type.Boolean({ description: "Survives a broker restart. Default true.", default: true })),
    auto_delete: Type.Optional(Type.Boolean({ description: "Deleted when its last binding goes. Default false.", default: false })),
    internal: Type.Optional(Type.Boolean({ description: "Only other exchanges can publish to it. Default false.", default: false })),
    alternate_exchange: Type.Optional(Type.String({ minLength: 1, description: "Where messages go that no binding routes." })),
    arguments: Type.Optional(argumentsField),
  },
  { additionalProperties: false, description: "An exchange declared on every (re)connection." },
);

export const QueueSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: "Queue name." }),
    type: Type.Optional(
      Type.Union([Type.Literal("classic"), Type.Literal("quorum")], { description: "classic, or quorum (replicated, with a delivery limit). Default classic.", default: "classic" }),
    ),
    durable: Type.Optional(Type.Boolean({ description: "Survives a broker restart. Default true (quorum queues always are).", default: true })),
    dead_letter_exchange: Type.Optional(Type.String({ description: "Exchange that receives this queue's dead letters (x-dead-letter-exchange); \"\" is the default exchange." })),
    dead_letter_routing_key: Type.Optional(Type.String({ minLength: 1, description: "Routing key of dead letters. Default: the message's own." })),
    message_ttl: Type.Optional(durationField("Messages older than this are dropped or dead-lettered (x-message-ttl).")),
    max_length: Type.Optional(Type.Integer({ minimum: 0, description: "Most messages the queue holds (x-max-length)." })),
    max_length_bytes: Type.Optional(Type.Integer({ minimum: 0, description: "Most bytes of bodies the queue holds (x-max-length-bytes)." })),
    overflow: Type.Optional(
      Type.Union([Type.Literal("drop-head"), Type.Literal("reject-publish"), Type.Literal("reject-publish-dlx")], {
        description: "What happens past max_length: drop-head (default, the oldest goes), reject-publish (publishers get a nack), reject-publish-dlx.",
      }),
    ),
    delivery_limit: Type.Optional(Type.Integer({ minimum: 1, description: "Quorum queues: deliveries after which RabbitMQ dead-letters a message itself (x-delivery-limit)." })),
    arguments: Type.Optional(argumentsField),
  },
  { additionalProperties: false, description: "A queue declared on every (re)connection." },
);

export const BindingSchema = Type.Object(
  {
    exchange: Type.String({ minLength: 1, description: "Source exchange." }),
    queue: Type.Optional(Type.String({ minLength: 1, description: "Destination queue (or give `to_exchange`)." })),
    to_exchange: Type.Optional(Type.String({ minLength: 1, description: "Destination exchange (exchange-to-exchange binding)." })),
    routing_key: Type.Optional(Type.String({ description: 'Binding key; topic exchanges take * and # wildcards. Default "".', default: "" })),
    arguments: Type.Optional(argumentsField),
  },
  { additionalProperties: false, description: "A binding declared on every (re)connection, after exchanges and queues." },
);

export const AmqpConnectionSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      secret: true,
      description: 'Broker URL, "amqp://user:password@host:5672/vhost" (amqps:// for TLS). Redacted like a password.',
    }),
    heartbeat: Type.Optional(durationField("Heartbeat interval that detects a dead connection. Default 30s.", "30s")),
    connect_timeout: Type.Optional(durationField("How long one connection attempt may take. Default 10s.", "10s")),
    exchanges: Type.Optional(Type.Array(ExchangeSchema, { description: "Exchanges declared on every (re)connection." })),
    queues: Type.Optional(Type.Array(QueueSchema, { description: "Queues declared on every (re)connection." })),
    bindings: Type.Optional(Type.Array(BindingSchema, { description: "Bindings declared on every (re)connection, after exchanges and queues." })),
  },
  { additionalProperties: false, description: "A RabbitMQ broker and the topology declared on it." },
);

export const AmqpSourceSchema = Type.Object(
  {
    queue: Type.String({ minLength: 1, description: "Queue to consume." }),
    prefetch: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Unacknowledged deliveries RabbitMQ sends ahead. Default: twice the batch size (at most 65,535)." })),
    batch_size: Type.Optional(batchSizeField()),
    max_deliveries: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Deliveries of a message that fails transiently (after its in-process retries) before it is dead-lettered; each hands it back to the queue with an x-junction-deliveries header. Default 5.",
        default: 5,
      }),
    ),
    dead_letter_exchange: Type.Optional(
      Type.String({
        description:
          "Exchange that receives messages failing for good, published with confirms and the error in x-junction-* headers. Default: the queue's dead_letter_exchange from `queues`; without either, dead letters go to the state store (`junction dlq`).",
      }),
    ),
    dead_letter_routing_key: Type.Optional(Type.String({ minLength: 1, description: "Routing key of those dead letters. Default: the queue's dead_letter_routing_key, else the message's own." })),
    key: Type.Optional(keyField),
    format: Type.Optional(bodyFormatField),
    consumer_tag: Type.Optional(Type.String({ minLength: 1, description: "Consumer tag shown in the management UI. Default: generated by RabbitMQ." })),
  },
  { additionalProperties: false, description: "Consume a queue with prefetch and manual acknowledgements." },
);

export const AmqpSinkSchema = Type.Object(
  {
    exchange: Type.Optional(Type.String({ description: 'Exchange to publish to; "" (default) is the default exchange, which routes by queue name.', default: "" })),
    routing_key: Type.String({ description: "Routing key, with `{{ JSONata }}` parts evaluated per message, e.g. `orders.{{ region }}`." }),
    persistent: Type.Optional(Type.Boolean({ description: "Delivery mode 2: written to disk by durable queues. Default true.", default: true })),
    mandatory: Type.Optional(
      Type.Boolean({ description: "A message no queue is bound for fails (permanent) instead of being dropped silently. Default true.", default: true }),
    ),
    cloudevents: Type.Optional(cloudEventsField),
    format: Type.Optional(bodyFormatField),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Extra headers on every message, values with `{{ JSONata }}` parts." })),
    max_in_flight: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: "Publishes awaiting their confirm at once. Default 1,000.", default: 1000 })),
  },
  { additionalProperties: false, description: "Publish through a confirm channel: persistent, mandatory, confirmed before reported written." },
);

export type AmqpConnectionConfig = Static<typeof AmqpConnectionSchema>;
export type AmqpSourceOptions = Static<typeof AmqpSourceSchema>;
export type AmqpSinkOptions = Static<typeof AmqpSinkSchema>;
export type ExchangeConfig = Static<typeof ExchangeSchema>;
export type QueueConfig = Static<typeof QueueSchema>;
export type BindingConfig = Static<typeof BindingSchema>;
