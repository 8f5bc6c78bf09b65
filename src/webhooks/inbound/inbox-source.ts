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
  const renewals = new Set<NodeJS.Timeout>();
  return {
    async close() {
      for (const renewal of renewals) clearInterval(renewal);
      renewals.clear();
    },
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      while (!signal.aborted) {
        const events = await inbox.claim(integration, ctx.batchSize, options.leaseMs);
        if (events.length > 0) {
          yield toBatch(inbox, events, options.leaseMs, ctx.logger, renewals);
          continue;
        }
        if (!ctx.follow) return;
        await wakeup.wait(integration, options.pollIntervalMs, signal);
      }
    },
  };
}

/**
 * A batch of taken events. While the engine holds it (a slow target, retries), its lease is
 * renewed every half lease, so no other instance takes the same events meanwhile.
 */
function toBatch(inbox: WebhookInboxStore, events: InboundEvent[], leaseMs: number, logger: SourceContext["logger"], renewals: Set<NodeJS.Timeout>): Batch {
  const ids = events.map((event) => event.id);
  const renew = setInterval(() => {
    inbox.release(ids, leaseMs).catch((error: unknown) => logger.warn({ err: error }, "could not renew the lease of webhook events being processed; another instance may take them too"));
  }, Math.max(1, Math.floor(leaseMs / 2)));
  renew.unref();
  renewals.add(renew);
  const settled = (): void => {
    clearInterval(renew);
    renewals.delete(renew);
  };
  return {
    messages: events.map(toMessage),
    ack: () => {
      settled();
      return inbox.complete(ids);
    },
    nack: () => {
      settled();
      return inbox.release(ids, RELEASE_DELAY_MS);
    },
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
