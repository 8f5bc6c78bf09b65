import type { Connection, HealthResult } from "../../connectors/types.js";
import type { WebhookDeliveryStore } from "../../state/webhook-types.js";
import type { OutboundRuntime } from "./outbound-runtime.js";
import { createOutboundSink } from "./outbound-sink.js";
import type { OutboundTargetOptions } from "./outbound-sink.js";

/** Counts above this are shown as "1000+": health checks do not scan the whole delivery log. */
const COUNT_LIMIT = 1000;
const DAY_MS = 86_400_000;

/**
 * The engine's Connection for `target: { webhook: <name> }`: a sink that enqueues
 * deliveries, and a health check that reports what is waiting, what failed in the last day
 * and which endpoints are disabled (degraded while any is).
 */
export function createOutboundConnection(outbound: OutboundRuntime, store: WebhookDeliveryStore, wake: () => void): Connection {
  const name = outbound.config.name;
  return {
    async health(): Promise<HealthResult> {
      const started = performance.now();
      const [pending, failed, states] = await Promise.all([
        store.list({ outbound: name, status: "pending", limit: COUNT_LIMIT + 1 }),
        store.list({ outbound: name, status: "failed", since: new Date(Date.now() - DAY_MS), limit: COUNT_LIMIT + 1 }),
        Promise.all([...outbound.endpoints.keys()].map((endpoint) => store.getEndpoint(name, endpoint))),
      ]);
      const disabled = states.filter((state) => state?.disabled === true);
      const count = (list: unknown[]): string => (list.length > COUNT_LIMIT ? `${COUNT_LIMIT}+` : String(list.length));
      const parts = [`${count(pending)} pending`, `${count(failed)} failed in the last 24 h`];
      if (disabled.length > 0) parts.push(`disabled: ${disabled.map((state) => `${state?.endpoint} (${state?.disabledReason ?? "disabled"})`).join(", ")}`);
      return { status: disabled.length > 0 ? "degraded" : "healthy", latencyMs: performance.now() - started, detail: parts.join("; ") };
    },
    sink: (options, ctx) => createOutboundSink(outbound, targetOptions(options), ctx, { store, wake }),
    // The OutboundWebhooks runtime owns the sender and the dispatcher and closes them on stop.
    close: async () => undefined,
  };
}

/** The target's own options from what the engine passes (the written target; `webhook` itself is ignored). */
function targetOptions(options: unknown): OutboundTargetOptions {
  const eventType = (options as { event_type?: unknown } | null | undefined)?.event_type;
  return typeof eventType === "string" ? { event_type: eventType } : {};
}
