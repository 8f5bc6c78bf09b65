import { createHash } from "node:crypto";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../../connectors/types.js";
import type { NewWebhookDelivery, WebhookDeliveryStore } from "../../state/webhook-types.js";
import { describeJsonataError, JsonataExpression } from "../../transform/jsonata-expression.js";
import type { OutboundRuntime } from "./outbound-runtime.js";

/** Options of `target: { webhook: <name>, … }` (the `webhook` key itself is the engine's). */
export interface OutboundTargetOptions {
  event_type?: string;
}

export interface OutboundSinkDeps {
  store: WebhookDeliveryStore;
  /** Tells the dispatcher that new deliveries are due. */
  wake(): void;
}

/**
 * The `webhook` target's writes: each message becomes one delivery per subscribed endpoint,
 * stored as pending in the state store — that is the durable acceptance the engine waits
 * for; the dispatcher sends them later. Enqueueing is idempotent per message id, so a write
 * retried after a crash enqueues nothing twice, and the `webhook-id` derived from the
 * message id is the same on every attempt.
 */
export function createOutboundSink(outbound: OutboundRuntime, options: OutboundTargetOptions, ctx: SinkContext, deps: OutboundSinkDeps): Sink {
  const name = outbound.config.name;
  const eventType = new JsonataExpression(options.event_type ?? outbound.config.eventType, `integration "${ctx.integration}", webhook "${name}" event_type`);
  const payload = new JsonataExpression(outbound.config.payload, `webhook "${name}" payload`);
  const endpoints = [...outbound.endpoints.values()];

  async function deliveriesOf(message: Message, createdAt: Date): Promise<NewWebhookDelivery[]> {
    const type = await evaluate(eventType, message, "event_type");
    if (typeof type !== "string" || type === "") {
      throw permanentError(`webhook "${name}": event_type \`${eventType.source}\` gave ${type === undefined ? "no value" : `a ${typeof type}`} for this message; it must give the event type as a non-empty string`, {
        code: "webhooks.event_type",
      });
    }
    const value = await evaluate(payload, message, "payload");
    if (value === undefined) throw permanentError(`webhook "${name}": payload \`${payload.source}\` gave no value for this message`, { code: "webhooks.payload" });
    const body = JSON.stringify(value);
    const eventId = eventIdOf(name, message.id);
    return endpoints
      .filter((endpoint) => endpoint.filter.matches(type))
      .map((endpoint) => ({ outbound: name, endpoint: endpoint.config.name, messageId: message.id, eventId, eventType: type, body, createdAt }));
  }

  async function evaluate(expression: JsonataExpression, message: Message, what: string): Promise<unknown> {
    try {
      return await expression.evaluate(message);
    } catch (error) {
      throw permanentError(`webhook "${name}": ${what} failed${describeJsonataError(error)}`, { code: "webhooks.mapping", cause: error });
    }
  }

  return {
    async write(messages): Promise<WriteOutcome> {
      const failures: MessageFailure[] = [];
      const deliveries: NewWebhookDelivery[] = [];
      const createdAt = new Date();
      for (const [index, message] of messages.entries()) {
        try {
          deliveries.push(...(await deliveriesOf(message, createdAt)));
        } catch (error) {
          failures.push({ index, error });
        }
      }
      if (deliveries.length > 0) {
        try {
          await deps.store.enqueue(deliveries);
        } catch (error) {
          const failed = new Set(failures.map((failure) => failure.index));
          for (const index of messages.keys()) if (!failed.has(index)) failures.push({ index, error });
          failures.sort((a, b) => a.index - b.index);
          return { failures };
        }
        deps.wake();
      }
      return { failures };
    },
  };
}

/**
 * The `webhook-id` of a message's event: derived from the entry and the message id, so it is
 * the same whenever the message is written again. Standard Webhooks ids must not contain "."
 * or spaces, which message ids may.
 */
export function eventIdOf(outbound: string, messageId: string): string {
  return `msg_${createHash("sha256").update(`${outbound}\n${messageId}`).digest("hex").slice(0, 32)}`;
}
