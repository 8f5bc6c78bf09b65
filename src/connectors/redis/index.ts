import type { ConnectorSpec } from "../types.js";
import { sinkIssues, sourceIssues } from "./config-checks.js";
import { createPubSubSink } from "./pubsub-sink.js";
import { createPubSubSource } from "./pubsub-source.js";
import { RedisServer } from "./redis-server.js";
import { RedisConnectionSchema, RedisSinkSchema, RedisSourceSchema } from "./schema.js";
import { createStreamSink } from "./stream-sink.js";
import { createStreamSource } from "./stream-source.js";

const EXAMPLE = `# connections:
events_redis:
  type: redis
  url: \${REDIS_URL}            # default redis://127.0.0.1:6379; rediss:// for TLS
  # key_prefix: "app1:"         # prepended to every stream and channel name

# integrations.<name>.source — a stream read through a consumer group (at least once):
#   source:
#     connection: events_redis
#     stream: orders
#     group: order-sync            # created with MKSTREAM when missing
#     start: earliest              # a new group reads what is already there (latest: only new entries)
#     claim_idle: 60s              # take over entries a dead consumer left pending
#     max_deliveries: 5            # then dead-letter an entry that keeps failing
#     dead_letter_stream: orders.dead   # default: the state store (junction dlq)
#   sync: { trigger: continuous }
#
# integrations.<name>.target — one XADD per message, a batch per pipeline:
#   target:
#     connection: events_redis
#     stream: "orders:{{ region }}"
#     max_len: 1000000             # XADD MAXLEN ~
#
# pub/sub keeps nothing: only with at_most_once: true
#   source: { connection: events_redis, channel: notifications, at_most_once: true }
#   target: { connection: events_redis, channel: "alerts.{{ level }}", at_most_once: true }
`;

export const redisConnector = {
  type: "redis",
  summary:
    "Redis Streams through consumer groups (at least once: XACK after the write, XAUTOCLAIM of stalled entries, delivery limit, dead-letter stream) and XADD; pub/sub channels only as explicitly at-most-once.",
  config: RedisConnectionSchema,
  source: RedisSourceSchema,
  sink: RedisSinkSchema,
  example: EXAMPLE,
  check: { source: sourceIssues, sink: sinkIssues },
  async connect(config, ctx) {
    const server = new RedisServer(ctx.name, config, ctx.logger);
    return {
      health: (signal: AbortSignal) => server.health(signal),
      source: (options, sourceCtx) => (options.stream === undefined ? createPubSubSource(server, options, sourceCtx) : createStreamSource(server, options, sourceCtx)),
      sink: (options, sinkCtx) => (options.stream === undefined ? createPubSubSink(server, options, sinkCtx) : createStreamSink(server, options, sinkCtx)),
      close: () => server.close(),
    };
  },
} satisfies ConnectorSpec<typeof RedisConnectionSchema, typeof RedisSourceSchema, typeof RedisSinkSchema>;
