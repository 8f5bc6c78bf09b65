import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Connection } from "../../connectors/types.js";
import { parseDuration } from "../../core/duration.js";
import type { InboundWebhookConfig } from "../../config/webhooks-inbound.js";
import type { JunctionMetrics } from "../../observability/metrics.js";
import type { StateStore } from "../../state/types.js";
import { InboundEndpoint } from "./inbound-endpoint.js";
import { InboundReceiver } from "./inbound-receiver.js";
import { registerInboundRoutes } from "./inbound-routes.js";
import { createInboxSource } from "./inbox-source.js";
import { InboxWakeup } from "./inbox-wakeup.js";
import { InboxWriter } from "./inbox-writer.js";

const DEFAULT_LEASE_MS = 5 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * The `webhooks.inbound` endpoints of a config: their HTTP routes (verify, store in the
 * inbox, answer) and, for each, the connection whose source the integrations read.
 */
export class InboundWebhooks {
  readonly #receivers = new Map<string, InboundReceiver>();
  readonly #wakeup = new InboxWakeup();
  readonly #state: StateStore;
  #closing = false;

  constructor(configs: Record<string, InboundWebhookConfig>, deps: { state: StateStore; logger: Logger; metrics: JunctionMetrics }) {
    this.#state = deps.state;
    const logger = deps.logger.child({ component: "webhooks.inbound" });
    const writer = new InboxWriter(deps.state.webhookInbox, deps.state.kind === "sqlite" ? 1 : 4);
    for (const config of Object.values(configs)) {
      this.#receivers.set(config.name, new InboundReceiver(new InboundEndpoint(config), writer, logger, deps.metrics, (integrations) => this.#wakeup.wake(integrations)));
    }
  }

  get size(): number {
    return this.#receivers.size;
  }

  /** The paths served, for the start-up log. */
  get paths(): string[] {
    return [...this.#receivers.values()].map((receiver) => receiver.endpoint.path);
  }

  routes(app: FastifyInstance): Promise<void> {
    return registerInboundRoutes(app, [...this.#receivers.values()], () => this.#closing);
  }

  /** Requests arriving from now on get 503 + Retry-After (their sender retries; nothing is half-stored). */
  close(): void {
    this.#closing = true;
  }

  /** The connection behind `source: { webhook: <name> }`. */
  connection(name: string): Connection | undefined {
    const receiver = this.#receivers.get(name);
    if (receiver === undefined) return undefined;
    const inbox = this.#state.webhookInbox;
    return {
      health: async () => {
        const started = performance.now();
        const waiting = await inbox.count({ endpoint: name });
        return { status: "healthy" as const, latencyMs: performance.now() - started, detail: `POST ${receiver.endpoint.path} (${waiting} ${waiting === 1 ? "event" : "events"} waiting)` };
      },
      source: (options, ctx) => {
        const raw = options as { lease?: unknown; poll_interval?: unknown };
        return createInboxSource(
          inbox,
          this.#wakeup,
          {
            leaseMs: raw.lease === undefined ? DEFAULT_LEASE_MS : (parseDuration(raw.lease) ?? DEFAULT_LEASE_MS),
            pollIntervalMs: raw.poll_interval === undefined ? DEFAULT_POLL_INTERVAL_MS : (parseDuration(raw.poll_interval) ?? DEFAULT_POLL_INTERVAL_MS),
          },
          ctx,
        );
      },
      close: async () => undefined,
    };
  }
}
