import type { Channel } from "amqplib";
import { durationMs } from "../shared/config-fields.js";
import { amqpError } from "./amqp-errors.js";
import type { AmqpConnectionConfig, BindingConfig, ExchangeConfig, QueueConfig } from "./schema.js";

/**
 * Declares the connection's exchanges, queues and bindings (idempotent: RabbitMQ accepts a
 * declaration equal to what exists). Run on every new connection, so a broker that lost
 * non-durable objects in a restart gets them back before anyone consumes or publishes.
 */
export async function declareTopology(channel: Channel, config: AmqpConnectionConfig): Promise<void> {
  for (const exchange of config.exchanges ?? []) {
    await declare(`declaring exchange "${exchange.name}"`, () => channel.assertExchange(exchange.name, exchange.type, exchangeOptions(exchange)));
  }
  for (const queue of config.queues ?? []) {
    await declare(`declaring queue "${queue.name}"`, () => channel.assertQueue(queue.name, { durable: queue.type === "quorum" ? true : (queue.durable ?? true), arguments: queueArguments(queue) }));
  }
  for (const binding of config.bindings ?? []) {
    await declare(`binding ${describeBinding(binding)}`, () =>
      binding.queue !== undefined
        ? channel.bindQueue(binding.queue, binding.exchange, binding.routing_key ?? "", binding.arguments)
        : channel.bindExchange(binding.to_exchange as string, binding.exchange, binding.routing_key ?? "", binding.arguments),
    );
  }
}

export function queueArguments(queue: QueueConfig): Record<string, unknown> {
  const args: Record<string, unknown> = { ...queue.arguments };
  if (queue.type === "quorum") args["x-queue-type"] = "quorum";
  if (queue.dead_letter_exchange !== undefined) args["x-dead-letter-exchange"] = queue.dead_letter_exchange;
  if (queue.dead_letter_routing_key !== undefined) args["x-dead-letter-routing-key"] = queue.dead_letter_routing_key;
  if (queue.message_ttl !== undefined) args["x-message-ttl"] = durationMs(queue.message_ttl, 0);
  if (queue.max_length !== undefined) args["x-max-length"] = queue.max_length;
  if (queue.max_length_bytes !== undefined) args["x-max-length-bytes"] = queue.max_length_bytes;
  if (queue.overflow !== undefined) args["x-overflow"] = queue.overflow;
  if (queue.delivery_limit !== undefined) args["x-delivery-limit"] = queue.delivery_limit;
  return args;
}

function exchangeOptions(exchange: ExchangeConfig) {
  return {
    durable: exchange.durable ?? true,
    autoDelete: exchange.auto_delete ?? false,
    internal: exchange.internal ?? false,
    ...(exchange.alternate_exchange === undefined ? {} : { alternateExchange: exchange.alternate_exchange }),
    ...(exchange.arguments === undefined ? {} : { arguments: exchange.arguments }),
  };
}

export function describeBinding(binding: BindingConfig): string {
  const to = binding.queue !== undefined ? `queue "${binding.queue}"` : `exchange "${binding.to_exchange}"`;
  return `exchange "${binding.exchange}" → ${to} (routing key "${binding.routing_key ?? ""}")`;
}

async function declare(what: string, operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch (error) {
    throw amqpError(error, what);
  }
}
