import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField, sizeField } from "../shared/config-fields.js";
import { bodyFormatField, cloudEventsField, keyField } from "../shared/events/event-fields.js";

export const DEFAULT_SERVER = "nats://127.0.0.1:4222";
export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_NAK_DELAY_MS = 5_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_IN_FLIGHT = 256;
export const DEFAULT_CORE_MAX_PENDING = 10_000;

const serverUrl = Type.String({ minLength: 1, description: 'A server URL, e.g. "nats://127.0.0.1:4222" or "tls://nats.example.com:4222".' });

export const StreamSchema = Type.Object(
  {
    name: Type.String({ pattern: "^[^.*>\\s/\\\\]+$", description: "Stream name (no dots, spaces, slashes or wildcards)." }),
    subjects: Type.Optional(
      Type.Array(Type.String({ minLength: 1, description: "A subject, wildcards * and > allowed." }), {
        minItems: 1,
        description: "Subjects the stream stores, e.g. [orders.>]. Default: the stream's name.",
      }),
    ),
    retention: Type.Optional(
      Type.Union([Type.Literal("limits"), Type.Literal("workqueue"), Type.Literal("interest")], {
        description:
          "limits (default): keep messages until max_age / max_msgs / max_bytes. workqueue: a message is removed once a consumer acknowledges it (one consumer per subject). interest: removed once every consumer has acknowledged it. Cannot change once created.",
      }),
    ),
    storage: Type.Optional(
      Type.Union([Type.Literal("file"), Type.Literal("memory")], { description: "file (default, survives a server restart) or memory. Cannot change once created." }),
    ),
    max_age: Type.Optional(durationField("Messages older than this are removed. Default: no limit.")),
    max_msgs: Type.Optional(Type.Integer({ minimum: -1, description: "Most messages kept; -1 (default) is no limit." })),
    max_bytes: Type.Optional(sizeField("Most bytes kept, e.g. 1gb. Default: no limit.")),
    duplicate_window: Type.Optional(
      durationField("How long the server remembers Nats-Msg-Id values to drop duplicates (publishes retried by a target). Default 2m (the server's)."),
    ),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: "Copies kept in a cluster (1 on a single server). Default 1." })),
  },
  { additionalProperties: false, description: "A JetStream stream declared on connect: created when missing, updated when its settings differ." },
);

export const NatsConnectionSchema = Type.Object(
  {
    servers: Type.Optional(
      Type.Union([serverUrl, Type.Array(serverUrl, { minItems: 1, description: "Server URLs; the client picks one and fails over to the others." })], {
        description: `Server URL or list of URLs. Default "${DEFAULT_SERVER}". Put credentials in user/password or token, not in the URL.`,
        default: DEFAULT_SERVER,
      }),
    ),
    user: Type.Optional(Type.String({ minLength: 1, description: "User name (with password)." })),
    password: Type.Optional(Type.String({ secret: true, description: "Password of user. Redacted in logs and `config print`." })),
    token: Type.Optional(Type.String({ minLength: 1, secret: true, description: "Authentication token (instead of user/password). Redacted in logs and `config print`." })),
    name: Type.Optional(Type.String({ minLength: 1, description: 'Client name shown by the server (e.g. in `nats server report connections`). Default "junction-<connection>".' })),
    connect_timeout: Type.Optional(durationField("How long the first connection attempt may take. Default 10s.", "10s")),
    request_timeout: Type.Optional(
      durationField("How long to wait for JetStream's answer to a publish, an acknowledgement or an API call; past it the operation fails as transient. Default 5s.", "5s"),
    ),
    streams: Type.Optional(Type.Array(StreamSchema, { description: "Streams declared on connect and again after every reconnection." })),
  },
  { additionalProperties: false, description: "A NATS server or cluster (nats.js), with JetStream for at-least-once sources and targets." },
);

export const NatsSourceSchema = Type.Object(
  {
    stream: Type.Optional(Type.String({ minLength: 1, description: "JetStream stream to consume, at least once, through a durable pull consumer. Exactly one of stream or subject." })),
    consumer: Type.Optional(
      Type.String({
        pattern: "^[^.*>\\s/\\\\]+$",
        description:
          "Durable pull consumer (created or updated from these options; several instances with the same consumer share the messages). Default junction_<integration>.",
      }),
    ),
    filter_subject: Type.Optional(Type.String({ minLength: 1, description: "Only messages of the stream on this subject (wildcards allowed). Default: all of the stream." })),
    ack_wait: Type.Optional(
      durationField("How long the server waits for an acknowledgement before delivering a message again; Junction extends it for messages still in progress. Default 30s.", "30s"),
    ),
    max_deliver: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Deliveries of a message that keeps failing transiently before it is dead-lettered (the consumer's max_deliver). Default ${DEFAULT_MAX_DELIVER}.`,
        default: DEFAULT_MAX_DELIVER,
      }),
    ),
    max_ack_pending: Type.Optional(
      Type.Integer({ minimum: 1, description: "Messages delivered and not yet acknowledged at once, over every instance (the consumer's max_ack_pending). Default: the server's (1,000)." }),
    ),
    nak_delay: Type.Optional(durationField("Delay before a message handed back after a transient failure is delivered again. Default 5s.", "5s")),
    dead_letter_subject: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Subject (stored by a stream) that receives messages failing for good, with their headers and the error in x-junction-* headers; the original is then terminated. Default: dead letters go to the state store (`junction dlq`) and the original is terminated.",
      }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Core NATS subject to subscribe to, without a stream: at most once (needs at_most_once: true). Exactly one of stream or subject.",
      }),
    ),
    queue: Type.Optional(Type.String({ minLength: 1, description: "Core NATS queue group (with subject): instances in the same group share the messages." })),
    at_most_once: Type.Optional(
      Type.Boolean({
        description: "Accept losing messages: required with subject (core NATS drops messages when nobody listens and those in flight when the process dies).",
      }),
    ),
    max_pending: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Core NATS (subject): messages received and not yet read; beyond this new messages are dropped (core NATS has no flow control). Default ${DEFAULT_CORE_MAX_PENDING}.`,
      }),
    ),
    batch_size: Type.Optional(batchSizeField()),
    key: Type.Optional(keyField),
    format: Type.Optional(bodyFormatField),
  },
  {
    additionalProperties: false,
    description:
      "JetStream (stream): each message is acknowledged once written or dead-lettered, handed back with a delay after a transient failure, dead-lettered after max_deliver deliveries. Core NATS (subject + at_most_once): fire and forget.",
  },
);

export const NatsSinkSchema = Type.Object(
  {
    subject: Type.String({ minLength: 1, description: "Subject to publish to, with `{{ JSONata }}` parts evaluated per message, e.g. `orders.{{ region }}`." }),
    stream: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Stream that must store the messages: each publish waits for its acknowledgement, and a subject stored by another stream or by none fails (permanent). Required unless at_most_once.",
      }),
    ),
    at_most_once: Type.Optional(
      Type.Boolean({ description: "Publish on core NATS without a stream (no acknowledgement: messages are lost when nobody listens). Required without stream." }),
    ),
    cloudevents: Type.Optional(cloudEventsField),
    format: Type.Optional(bodyFormatField),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: "Extra headers on every message, values with `{{ JSONata }}` parts." }),
    ),
    max_in_flight: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: `Publishes awaiting their acknowledgement at once. Default ${DEFAULT_MAX_IN_FLIGHT}.`, default: DEFAULT_MAX_IN_FLIGHT }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Publishes each message to JetStream with Nats-Msg-Id = the message id (the stream drops duplicates within its duplicate_window) and waits for every acknowledgement.",
  },
);

export type NatsConnectionConfig = Static<typeof NatsConnectionSchema>;
export type NatsStreamConfig = Static<typeof StreamSchema>;
export type NatsSourceOptions = Static<typeof NatsSourceSchema>;
export type NatsSinkOptions = Static<typeof NatsSinkSchema>;
