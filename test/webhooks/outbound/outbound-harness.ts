// Builds the outbound webhooks runtime on a real state store for the tests, and waits for what it does.
import assert from "node:assert/strict";
import { Value } from "@sinclair/typebox/value";
import { outboundWebhookSchema } from "../../../src/config/schema/webhooks-outbound.js";
import { normaliseOutboundWebhook } from "../../../src/config/webhooks-outbound.js";
import { outboundWebhookIssues } from "../../../src/webhooks/outbound/config-issues.js";
import type { Sink } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { Message } from "../../../src/core/message.js";
import { createLogger } from "../../../src/observability/logger.js";
import { JunctionMetrics } from "../../../src/observability/metrics.js";
import { openStateStore } from "../../../src/state/open.js";
import type { StateStore, WebhookDelivery, WebhookDeliveryStore } from "../../../src/state/types.js";
import { OutboundWebhooks } from "../../../src/webhooks/outbound/outbound-webhooks.js";
import type { EndpointDisabledEvent } from "../../../src/webhooks/outbound/outbound-webhooks.js";

export const logger = createLogger({ level: process.env.JUNCTION_TEST_LOG_LEVEL ?? "silent" });

export interface Harness {
  state: StateStore;
  webhooks: OutboundWebhooks;
  metrics: JunctionMetrics;
  sink: Sink;
  disabled: EndpointDisabledEvent[];
  write(payloads: Array<Record<string, unknown> & { id?: string }>): Promise<void>;
  deliveries(endpoint?: string): Promise<WebhookDelivery[]>;
  close(): Promise<void>;
}

/**
 * A schema-valid `webhooks.outbound.<name>` entry (checked against the schema and the extra
 * checks, as `junction validate` would) running on the state store at `stateUrl`.
 */
export async function startOutbound(
  stateUrl: string,
  raw: Record<string, unknown>,
  options: { name?: string; deliveries?: (store: WebhookDeliveryStore) => WebhookDeliveryStore } = {},
): Promise<Harness> {
  const name = options.name ?? "customers";
  assert.deepEqual([...Value.Errors(outboundWebhookSchema, raw)].map((error) => `${error.path} ${error.message}`), [], "the entry is schema-valid");
  assert.deepEqual(outboundWebhookIssues(raw), [], "the entry passes the extra checks");
  const opened = await openStateStore(stateUrl);
  const wrapped = options.deliveries?.(opened.webhookDeliveries);
  // The runtime may see the real store through a wrapper (e.g. one that slows a call down).
  const state: StateStore = wrapped === undefined ? opened : new Proxy(opened, { get: (target, key) => (key === "webhookDeliveries" ? wrapped : Reflect.get(target, key, target)) });
  const metrics = new JunctionMetrics({ defaultMetrics: false });
  const webhooks = new OutboundWebhooks({ [name]: normaliseOutboundWebhook(name, raw) }, { state, logger, metrics }, { pollIntervalMs: 50 });
  const disabled: EndpointDisabledEvent[] = [];
  webhooks.on("endpoint_disabled", (event: EndpointDisabledEvent) => disabled.push(event));
  const connection = webhooks.connection(name);
  const sink = connection.sink?.({}, { integration: "orders", logger }) as Sink;
  webhooks.start();
  return {
    state,
    webhooks,
    metrics,
    sink,
    disabled,
    async write(payloads) {
      const messages: Message[] = payloads.map((payload) => createMessage({ ...(payload.id === undefined ? {} : { id: payload.id }), payload }));
      const outcome = await sink.write(messages, new AbortController().signal);
      assert.deepEqual(outcome.failures, [], "every message is enqueued");
    },
    deliveries: (endpoint) => state.webhookDeliveries.list({ outbound: name, ...(endpoint === undefined ? {} : { endpoint }) }),
    async close() {
      await webhooks.stop(AbortSignal.timeout(5000));
      await state.close();
    },
  };
}

/** Polls `check` until it returns a value other than undefined; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the delivery of `endpoint` (the only one, or the one for `messageId`) is no longer pending. */
export function settled(harness: Harness, endpoint: string, messageId?: string): Promise<WebhookDelivery> {
  return waitFor(`the delivery to ${endpoint} to settle`, async () => {
    const deliveries = await harness.deliveries(endpoint);
    const delivery = messageId === undefined ? deliveries[0] : deliveries.find((candidate) => candidate.messageId === messageId);
    return delivery !== undefined && delivery.status !== "pending" ? delivery : undefined;
  });
}

/** A metric's value for the given labels, 0 when never counted. */
export async function metricValue(metrics: JunctionMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const found = values.find((value) => Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected));
  return found?.value ?? 0;
}
