import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { errorMessage } from "../../core/errors.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { AmqpClient } from "./amqp-client.js";
import { AmqpConnectionSchema, AmqpSinkSchema, AmqpSourceSchema } from "./schema.js";
import type { AmqpConnectionConfig, AmqpSinkOptions, AmqpSourceOptions } from "./schema.js";
import { createAmqpSink } from "./sink.js";
import { createAmqpSource } from "./source.js";

const EXAMPLE = `# connections:
rabbit:
  type: amqp
  url: \${RABBITMQ_URL}            # amqp://user:password@host:5672/vhost
  exchanges:
    - { name: orders, type: topic }
    - { name: orders.dlx, type: fanout }
  queues:
    - name: orders.created
      type: quorum
      dead_letter_exchange: orders.dlx
    - { name: orders.dead }
  bindings:
    - { exchange: orders, queue: orders.created, routing_key: "order.created.*" }
    - { exchange: orders.dlx, queue: orders.dead }

# integrations.<name>.source — consume with manual acks:
#   source:
#     connection: rabbit
#     queue: orders.created
#     prefetch: 200
#     max_deliveries: 5         # transient failures: handed back at most 5 times
#     key: "{{ order_id }}"     # same order never processed concurrently
#   sync: { trigger: continuous }
# integrations.<name>.target — publish with confirms:
#   target:
#     connection: rabbit
#     exchange: orders
#     routing_key: "order.{{ status }}.{{ region }}"
#     cloudevents: { mode: binary, type: com.example.order }
`;

export const amqpConnector = {
  type: "amqp",
  summary: "RabbitMQ (AMQP 0-9-1): topology from config, consume with prefetch and manual acks, publish with confirms; reconnects and re-declares.",
  config: AmqpConnectionSchema,
  source: AmqpSourceSchema,
  sink: AmqpSinkSchema,
  example: EXAMPLE,
  check: { config: checkConfig, source: checkSource, sink: checkSink },
  async connect(config, ctx) {
    const client = new AmqpClient(config, ctx.logger.child({ connection: ctx.name }));
    return {
      async health(_signal: AbortSignal) {
        const started = performance.now();
        try {
          const channel = await client.channel();
          await channel.close();
          return { status: "healthy" as const, latencyMs: performance.now() - started, detail: "connected" };
        } catch (error) {
          return { status: "unhealthy" as const, latencyMs: performance.now() - started, detail: errorMessage(error) };
        }
      },
      source: (options, sourceCtx) => createAmqpSource(client, config, options, sourceCtx),
      sink: (options, sinkCtx) => createAmqpSink(client, options, sinkCtx),
      close: () => client.close(),
    };
  },
} satisfies ConnectorSpec<typeof AmqpConnectionSchema, typeof AmqpSourceSchema, typeof AmqpSinkSchema>;

function checkConfig(config: AmqpConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!/^amqps?:\/\//i.test(config.url)) issues.push({ path: ["url"], message: 'expected an amqp:// or amqps:// URL, e.g. "amqp://guest:guest@127.0.0.1:5672"' });
  const exchanges = new Set((config.exchanges ?? []).map((exchange) => exchange.name));
  duplicates((config.exchanges ?? []).map((exchange) => exchange.name)).forEach((index) => issues.push({ path: ["exchanges", index, "name"], message: "declared twice" }));
  duplicates((config.queues ?? []).map((queue) => queue.name)).forEach((index) => issues.push({ path: ["queues", index, "name"], message: "declared twice" }));
  (config.queues ?? []).forEach((queue, index) => {
    if (queue.delivery_limit !== undefined && queue.type !== "quorum") issues.push({ path: ["queues", index, "delivery_limit"], message: "only quorum queues have a delivery limit: add `type: quorum`" });
    if (queue.dead_letter_exchange && !exchanges.has(queue.dead_letter_exchange)) {
      issues.push({ path: ["queues", index, "dead_letter_exchange"], message: `exchange "${queue.dead_letter_exchange}" is not declared under exchanges; dead letters to a missing exchange are dropped by RabbitMQ` });
    }
  });
  (config.bindings ?? []).forEach((binding, index) => {
    if ((binding.queue === undefined) === (binding.to_exchange === undefined)) issues.push({ path: ["bindings", index], message: "give exactly one of `queue` or `to_exchange`" });
  });
  return issues;
}

function checkSource(options: AmqpSourceOptions): ConfigIssue[] {
  return templateIssues(options.key, ["key"]);
}

function checkSink(options: AmqpSinkOptions): ConfigIssue[] {
  const issues = templateIssues(options.routing_key, ["routing_key"]);
  for (const [name, value] of Object.entries(options.headers ?? {})) issues.push(...templateIssues(value, ["headers", name]));
  if ((options.exchange ?? "") === "" && options.routing_key === "") issues.push({ path: ["routing_key"], message: "the default exchange routes by queue name: give the queue's name as routing_key" });
  return issues;
}

function templateIssues(template: string | undefined, path: string[]): ConfigIssue[] {
  if (template === undefined) return [];
  const problem = MessageTemplate.problem(template);
  return problem === undefined ? [] : [{ path, message: problem }];
}

function duplicates(names: string[]): number[] {
  const seen = new Set<string>();
  const repeated: number[] = [];
  names.forEach((name, index) => {
    if (seen.has(name)) repeated.push(index);
    seen.add(name);
  });
  return repeated;
}
