import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";
import { bodyFormatField, cloudEventsField, keyField } from "../shared/events/event-fields.js";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

const atMostOnceField = Type.Boolean({
  description:
    "Required (true) for pub/sub: Redis pub/sub keeps nothing, so messages published while no subscriber listens, or while the process is down or busy, are lost. Use a stream for at-least-once delivery.",
});

export const RedisConnectionSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: 'Server URL, "redis://[user:password@]host:6379[/db]" (rediss:// for TLS). Default "redis://127.0.0.1:6379". Redacted like a password.',
        default: DEFAULT_REDIS_URL,
      }),
    ),
    key_prefix: Type.Optional(
      Type.String({ minLength: 1, description: 'Prepended to every stream name and pub/sub channel or pattern of this connection, e.g. "app1:". Default: none.' }),
    ),
  },
  { additionalProperties: false, description: "A Redis server (6.2 or newer for streams) through ioredis." },
);

export const RedisSourceSchema = Type.Object(
  {
    stream: Type.Optional(Type.String({ minLength: 1, description: "Stream to consume with a consumer group (at least once). Exactly one of stream, channel or pattern." })),
    group: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Consumer group, created with MKSTREAM when missing. Instances with the same group share the stream's entries. Default `junction.<integration>`.",
      }),
    ),
    start: Type.Optional(
      Type.Union([Type.Literal("earliest"), Type.Literal("latest")], {
        description: "Where a new group starts: earliest (every entry already in the stream, default) or latest (only entries added from now on). An existing group keeps its position.",
        default: "earliest",
      }),
    ),
    consumer: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Consumer name in the group. Default `<host name>-<integration>`, stable across restarts so that a restarted process reads its own pending entries first. Give each process its own name when several run on one host.",
      }),
    ),
    batch_size: Type.Optional(batchSizeField()),
    block: Type.Optional(durationField("How long one read waits for new entries when the stream is caught up (XREADGROUP BLOCK). Default 5s.", "5s")),
    claim_idle: Type.Optional(
      durationField(
        "Entries pending longer than this with any consumer (a dead one, or handed back after a transient failure) are claimed with XAUTOCLAIM and processed again. Default 60s.",
        "60s",
      ),
    ),
    max_deliveries: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "Deliveries of an entry that keeps failing transiently before it is dead-lettered (its delivery count in the group's pending entries). Default 5.",
        default: 5,
      }),
    ),
    dead_letter_stream: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Stream that receives entries failing for good: the original fields plus x-junction-error, -error-kind, -stage and -attempts, added and acknowledged atomically (one Lua script). Default: dead letters go to the state store (`junction dlq`).",
      }),
    ),
    key: Type.Optional(keyField),
    format: Type.Optional(bodyFormatField),
    channel: Type.Optional(Type.String({ minLength: 1, description: "Pub/sub channel to SUBSCRIBE to (at most once: needs at_most_once: true)." })),
    pattern: Type.Optional(Type.String({ minLength: 1, description: "Pub/sub pattern to PSUBSCRIBE to, e.g. `orders.*` (at most once: needs at_most_once: true)." })),
    at_most_once: Type.Optional(atMostOnceField),
    max_buffered: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: "Pub/sub: messages received and not yet pulled; beyond this new messages are dropped (with a warning), since pub/sub cannot be paused. Default 10,000.",
        default: 10_000,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "A Redis Stream read through a consumer group (at least once: XREADGROUP, XACK after the write, XAUTOCLAIM of stalled entries), or a pub/sub channel or pattern (at most once).",
  },
);

export const RedisSinkSchema = Type.Object(
  {
    stream: Type.Optional(
      Type.String({ minLength: 1, description: "Stream to XADD to, with `{{ JSONata }}` parts evaluated per message, e.g. `orders:{{ region }}`. Exactly one of stream or channel." }),
    ),
    max_len: Type.Optional(Type.Integer({ minimum: 1, description: "Trim the stream to about this many entries on every add (XADD MAXLEN ~). Default: no trimming." })),
    channel: Type.Optional(
      Type.String({ minLength: 1, description: "Pub/sub channel to PUBLISH to, with `{{ JSONata }}` parts (at most once: needs at_most_once: true)." }),
    ),
    at_most_once: Type.Optional(atMostOnceField),
    format: Type.Optional(bodyFormatField),
    cloudevents: Type.Optional(cloudEventsField),
  },
  {
    additionalProperties: false,
    description: "XADD to a stream (every batch in one pipeline, each add confirmed by its reply), or PUBLISH to a pub/sub channel (at most once).",
  },
);

export type RedisConnectionConfig = Static<typeof RedisConnectionSchema>;
export type RedisSourceOptions = Static<typeof RedisSourceSchema>;
export type RedisSinkOptions = Static<typeof RedisSinkSchema>;
