import type { Batch, Source, SourceContext } from "../../connectors/types.js";
import type { Message } from "../../core/message.js";
import { correlationIdFrom } from "../../observability/tracing.js";
import type { InboundEvent, WebhookInboxStore } from "../../state/webhook-types.js";
import type { InboxWakeup } from "./inbox-wakeup.js";

export interface InboxSourceOptions {
  leaseMs: number;
  pollIntervalMs: number;
}

/** Delay before a batch that could not be settled (shutdown, a failed run) is offered again. */
const RELEASE_DELAY_MS = 1000;

/**
 * An integration's share of an inbound endpoint's events, taken from the inbox in arrival
 * order. Events are leased while processed and removed only when their batch is acknowledged
 * (written or dead-lettered); a crash leaves them to reappear after the lease.
 */
export function createInboxSource(inbox: WebhookInboxStore, wakeup: InboxWakeup, options: InboxSourceOptions, ctx: SourceContext): Source {
  const integration = ctx.integration;
  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      while (!signal.aborted) {
        const events = await inbox.claim(integration, ctx.batchSize, options.leaseMs);
        if (events.length > 0) {
          yield toBatch(inbox, events);
          continue;
        }
        if (!ctx.follow) return;
        await wakeup.wait(integration, options.pollIntervalMs, signal);
      }
    },
  };
}

function toBatch(inbox: WebhookInboxStore, events: InboundEvent[]): Batch {
  const ids = events.map((event) => event.id);
  return {
    messages: events.map(toMessage),
    ack: () => inbox.complete(ids),
    nack: () => inbox.release(ids, RELEASE_DELAY_MS),
  };
}

function toMessage(event: InboundEvent): Message {
  let payload: unknown;
  try {
    payload = JSON.parse(event.body);
  } catch {
    payload = event.body;
  }
  return {
    id: `${event.endpoint}:${event.eventId}`,
    payload,
    headers: event.headers,
    metadata: {
      webhook: event.endpoint,
      event_type: event.eventType,
      event_id: event.eventId,
      received_at: event.receivedAt.toISOString(),
      inbox_id: event.id,
    },
    correlationId: correlationIdFrom(event.headers) ?? event.eventId,
    attempt: event.deliveries,
  };
}
