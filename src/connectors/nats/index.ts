import { configError } from "../../core/errors.js";
import type { ConnectorSpec } from "../types.js";
import { connectionIssues, sinkIssues, sourceIssues } from "./config-checks.js";
import { createCoreSink } from "./core-sink.js";
import { createCoreSource } from "./core-source.js";
import { createJetStreamSink } from "./jetstream-sink.js";
import { createJetStreamSource } from "./jetstream-source.js";
import { NatsClient } from "./nats-client.js";
import { NatsConnectionSchema, NatsSinkSchema, NatsSourceSchema } from "./schema.js";

const EXAMPLE = `# connections:
events_bus:
  type: nats
  servers: nats://127.0.0.1:4222      # or a list: [nats://a:4222, nats://b:4222]
  # user: junction
  # password: \${NATS_PASSWORD}         # or token: \${NATS_TOKEN}
  streams:                             # declared on connect: created, or updated when settings differ
    - name: ORDERS
      subjects: [orders.>]
      storage: file
      max_age: 7d
      duplicate_window: 2m             # publishes with the same Nats-Msg-Id within 2m are stored once
    - name: ORDERS_DLQ
      subjects: [orders_dlq.>]

# integrations.<name>.source — at least once through a durable pull consumer:
#   source:
#     connection: events_bus
#     stream: ORDERS
#     consumer: orders_to_db            # default junction_<integration>
#     filter_subject: orders.created.>
#     ack_wait: 30s
#     max_deliver: 5                    # then dead-lettered
#     nak_delay: 5s                     # redelivery delay after a transient failure
#     dead_letter_subject: orders_dlq.created   # default: the state store (junction dlq)
#
# integrations.<name>.target — JetStream publish, deduplicated by message id:
#   target:
#     connection: events_bus
#     stream: ORDERS                    # the stream that must store the subject
#     subject: "orders.{{ region }}.created"
#     cloudevents: { mode: binary }     # optional
#
# Core NATS (no stream) loses messages and must be asked for explicitly:
#   source: { connection: events_bus, subject: metrics.>, at_most_once: true }
`;

export const natsConnector = {
  type: "nats",
  summary: "NATS JetStream: at-least-once durable pull consumer source and deduplicating, acknowledged publish target; streams declared from config; core NATS only when at_most_once is set.",
  config: NatsConnectionSchema,
  source: NatsSourceSchema,
  sink: NatsSinkSchema,
  example: EXAMPLE,
  check: { config: connectionIssues, source: sourceIssues, sink: sinkIssues },
  async connect(config, ctx) {
    const client = await NatsClient.connect(config, ctx.name, ctx.logger);
    return {
      health: (signal: AbortSignal) => client.health(signal),
      source(options, sourceCtx) {
        if (options.stream !== undefined) return createJetStreamSource(client, options.stream, options, sourceCtx);
        if (options.subject !== undefined && options.at_most_once === true) return createCoreSource(client, options.subject, options, sourceCtx);
        throw configError("nats source: set stream (JetStream), or subject with at_most_once: true (core NATS)", { code: "config.nats_source" });
      },
      sink(options, sinkCtx) {
        if (options.stream !== undefined) return createJetStreamSink(client, options.stream, options, sinkCtx);
        if (options.at_most_once === true) return createCoreSink(client, options, sinkCtx);
        throw configError("nats target: set stream (JetStream), or at_most_once: true (core NATS)", { code: "config.nats_target" });
      },
      close: () => client.close(),
    };
  },
} satisfies ConnectorSpec<typeof NatsConnectionSchema, typeof NatsSourceSchema, typeof NatsSinkSchema>;
