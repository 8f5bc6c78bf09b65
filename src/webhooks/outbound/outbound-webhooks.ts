import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { OutboundWebhookConfig } from "../../config/webhooks-outbound.js";
import type { Connection } from "../../connectors/types.js";
import { configError } from "../../core/errors.js";
import type { JunctionMetrics } from "../../observability/metrics.js";
import type { StateStore } from "../../state/types.js";
import { DeliveryDispatcher } from "./delivery-dispatcher.js";
import type { DispatcherOptions } from "./delivery-dispatcher.js";
import { EndpointHealthTracker } from "./endpoint-health-tracker.js";
import type { EndpointDisabled } from "./endpoint-health-tracker.js";
import { createOutboundConnection } from "./outbound-connection.js";
import { OutboundRuntime } from "./outbound-runtime.js";

export interface OutboundWebhooksDeps {
  state: StateStore;
  logger: Logger;
  metrics: JunctionMetrics;
}

/** The payload of the `endpoint_disabled` event. */
export interface EndpointDisabledEvent {
  outbound: string;
  endpoint: string;
  reason: string;
}

/**
 * The `webhooks.outbound` runtime: a Connection per entry for integrations to write to (it
 * enqueues deliveries), and the dispatcher that sends them while `start()`ed. Emits
 * `endpoint_disabled` ({ outbound, endpoint, reason }) when an endpoint answers 410 or has
 * failed for `disable_after`.
 */
export class OutboundWebhooks extends EventEmitter {
  readonly #outbounds = new Map<string, OutboundRuntime>();
  readonly #connections = new Map<string, Connection>();
  readonly #dispatcher: DeliveryDispatcher;
  readonly #deps: OutboundWebhooksDeps;
  #stopped = false;

  constructor(configs: Record<string, OutboundWebhookConfig>, deps: OutboundWebhooksDeps, options: DispatcherOptions = {}) {
    super();
    this.#deps = deps;
    for (const [name, config] of Object.entries(configs)) this.#outbounds.set(name, new OutboundRuntime({ ...config, name }));
    const store = deps.state.webhookDeliveries;
    const health = new EndpointHealthTracker(store, (event) => this.#disabled(event));
    const logger = deps.logger.child({ component: "webhooks.outbound" });
    this.#dispatcher = new DeliveryDispatcher(this.#outbounds, { store, logger, metrics: deps.metrics, health }, options);
  }

  /** The Connection for `target: { webhook: name }`. */
  connection(name: string): Connection {
    const known = this.#connections.get(name);
    if (known !== undefined) return known;
    const outbound = this.#outbounds.get(name);
    if (outbound === undefined) {
      const names = [...this.#outbounds.keys()];
      throw configError(`there is no outbound webhook "${name}" under webhooks.outbound${names.length > 0 ? ` (defined: ${names.join(", ")})` : ""}`, { code: "webhooks.unknown_outbound" });
    }
    const connection = createOutboundConnection(outbound, this.#deps.state.webhookDeliveries, () => this.#dispatcher.wake());
    this.#connections.set(name, connection);
    return connection;
  }

  /** Starts sending due deliveries. */
  start(): void {
    if (!this.#stopped) this.#dispatcher.start();
  }

  /** Stops taking deliveries and waits for the attempts in flight; `signal` aborts them (they are sent again later). */
  async stop(signal?: AbortSignal): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#dispatcher.stop(signal);
    await Promise.all([...this.#outbounds.values()].map((outbound) => outbound.close()));
  }

  #disabled(event: EndpointDisabled): void {
    const { outbound, endpoint, reason } = event;
    this.#deps.metrics.webhookEndpointsDisabledTotal.inc({ outbound, endpoint, reason: event.kind });
    this.#deps.logger.warn({ outbound, endpoint, reason }, `outbound webhook endpoint disabled: ${reason}; nothing more is sent to it until it is enabled again (junction webhooks)`);
    const payload: EndpointDisabledEvent = { outbound, endpoint, reason };
    this.emit("endpoint_disabled", payload);
  }
}
