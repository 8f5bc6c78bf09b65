// The outbound webhooks runtime end to end: a real SQLite state store, real HTTP receivers on
// 127.0.0.1, signatures checked with the `standardwebhooks` package on the receiving side.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { generateStandardWebhookSecret } from "../../../src/webhooks/signatures/standard-keys.js";
import { json, startLocalApi } from "../../connectors/http/local-api.js";
import type { LocalApi, RecordedRequest } from "../../connectors/http/local-api.js";
import { tempDir } from "../../support/temp-dir.js";
import { logger, metricValue, settled, startOutbound, waitFor } from "./outbound-harness.js";
import type { Harness } from "./outbound-harness.js";
import type { WebhookDeliveryStore } from "../../../src/state/types.js";

describe("outbound webhooks runtime (SQLite state)", () => {
  const dir = tempDir("junction-outbound-");
  const servers: LocalApi[] = [];
  const harnesses: Harness[] = [];
  let stores = 0;
  after(async () => {
    for (const harness of harnesses) await harness.close();
    for (const server of servers) await server.close();
    dir.remove();
  });

  async function receiver(handler: Parameters<typeof startLocalApi>[0]): Promise<LocalApi> {
    const api = await startLocalApi(handler);
    servers.push(api);
    return api;
  }

  async function outbound(raw: Record<string, unknown>, options: Parameters<typeof startOutbound>[2] = {}): Promise<Harness> {
    stores += 1;
    const harness = await startOutbound(`sqlite:${dir.path}/state-${stores}.db`, raw, options);
    harnesses.push(harness);
    return harness;
  }

  test("an endpoint that fails 3 times then succeeds gets the event on attempt 4, every attempt signed with the same webhook-id and logged", async () => {
    const secret = generateStandardWebhookSecret();
    const verifier = new Webhook(secret);
    const verified: unknown[] = [];
    let calls = 0;
    const api = await receiver((request, response) => {
      verified.push(verifier.verify(request.body, request.headers as Record<string, string>));
      calls += 1;
      if (calls <= 3) return json(response, 500, { error: `boom ${calls}` });
      json(response, 200, { ok: true });
    });
    const harness = await outbound({
      schedule: ["0s", "50ms", "50ms", "50ms"],
      allow_private: true,
      endpoints: { acme: { url: `${api.url}/hooks?tenant=acme`, secret, headers: { "X-Tenant": "acme" } } },
    });
    await harness.write([{ id: "order-1", type: "order.created", order: 1 }]);

    const delivery = await settled(harness, "acme");
    assert.equal(delivery.status, "delivered");
    assert.equal(delivery.attempts, 4);
    assert.equal(delivery.lastStatus, 200);
    const attempts = await harness.state.webhookDeliveries.attempts(delivery.id);
    assert.deepEqual(attempts.map((attempt) => attempt.status), [500, 500, 500, 200]);
    assert.deepEqual(attempts.map((attempt) => attempt.attempt), [1, 2, 3, 4]);
    assert.match(attempts[0]?.responseBody ?? "", /boom 1/, "the response body is in the log");
    assert.ok(attempts.every((attempt) => attempt.latencyMs >= 0));

    assert.equal(api.requests.length, 4);
    assert.equal(verified.length, 4, "the receiver verified the signature of every attempt");
    assert.deepEqual(verified[0], { type: "order.created", order: 1, id: "order-1" }, "the body is the payload");
    const ids = new Set(api.requests.map((request) => request.headers["webhook-id"]));
    assert.equal(ids.size, 1, "webhook-id is the same on every attempt");
    assert.equal(delivery.eventId, [...ids][0]);
    for (const request of api.requests) {
      assert.equal(request.method, "POST");
      assert.equal(request.url, "/hooks?tenant=acme");
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers["user-agent"], "Junction");
      assert.equal(request.headers["x-tenant"], "acme");
      assert.match(String(request.headers["webhook-signature"]), /^v1,/);
    }
    assert.equal(await metricValue(harness.metrics, "junction_webhook_attempts_total", { endpoint: "acme", result: "http_error" }), 3);
    assert.equal(await metricValue(harness.metrics, "junction_webhook_deliveries_total", { endpoint: "acme", outcome: "delivered" }), 1);
    const endpoint = await harness.state.webhookDeliveries.getEndpoint("customers", "acme");
    assert.equal(endpoint?.failingSince, undefined, "the success ended the endpoint's run of failures");
  });

  test("a retry due before the previous attempt's bookkeeping ends is still sent on time (not left to its lease)", async () => {
    let calls = 0;
    const api = await receiver((_request, response) => {
      calls += 1;
      json(response, calls <= 2 ? 500 : 200, {});
    });
    // The endpoint's health is updated after each recorded attempt; slowed down here so the retry is due first.
    const slowHealth = (store: WebhookDeliveryStore): WebhookDeliveryStore =>
      new Proxy(store, {
        get(target, key) {
          const value = Reflect.get(target, key, target) as unknown;
          if (key !== "getEndpoint" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
          return async (...args: unknown[]) => {
            await new Promise((resolve) => setTimeout(resolve, 300));
            return (value as (...inner: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    const harness = await outbound(
      { schedule: ["0s", "10ms", "10ms"], allow_private: true, endpoints: { a: { url: api.url, secret: generateStandardWebhookSecret() } } },
      { deliveries: slowHealth },
    );
    await harness.write([{ id: "m", type: "t" }]);
    const delivery = await settled(harness, "a");
    assert.equal(delivery.status, "delivered");
    assert.equal(delivery.attempts, 3);
  });

  test("a burst to one endpoint is delivered without waiting for leases to end", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const harness = await outbound({ allow_private: true, endpoints: { busy: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await harness.write(Array.from({ length: 400 }, (_, index) => ({ id: `m${index}`, type: "t" })));
    await waitFor("all 400 deliveries (a lease is 1 min: a delivery left to its lease would not make it)", async () => {
      const deliveries = await harness.state.webhookDeliveries.list({ outbound: "customers", status: "delivered", limit: 1000 });
      return deliveries.length === 400 ? true : undefined;
    });
    assert.equal(api.requests.length, 400);
    assert.equal(new Set(api.requests.map((request) => request.headers["webhook-id"])).size, 400);
  });

  test("writing the same message again enqueues nothing new: one delivery per endpoint, one webhook-id", async () => {
    const api = await receiver((_request, response) => json(response, 204, {}));
    const harness = await outbound({ allow_private: true, endpoints: { a: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await harness.write([{ id: "same", type: "x" }]);
    await harness.write([{ id: "same", type: "x" }]);
    await settled(harness, "a");
    assert.equal((await harness.deliveries()).length, 1);
    assert.equal(api.requests.length, 1);
  });

  test("an endpoint answering 410 is disabled at once: an event, a metric, nothing more sent to it, health degraded", async () => {
    const gone = await receiver((_request, response) => json(response, 410, { error: "gone" }));
    const other = await receiver((_request, response) => json(response, 200, {}));
    const harness = await outbound({
      schedule: ["0s", "50ms", "50ms"],
      allow_private: true,
      endpoints: { gone: { url: gone.url, secret: generateStandardWebhookSecret() }, other: { url: other.url, secret: generateStandardWebhookSecret() } },
    });
    await harness.write([{ id: "m1", type: "a" }]);
    const first = await settled(harness, "gone", "m1");
    assert.equal(first.status, "failed");
    assert.equal(first.attempts, 1);
    await waitFor("the endpoint_disabled event", () => (harness.disabled.length > 0 ? true : undefined));
    assert.deepEqual(harness.disabled, [{ outbound: "customers", endpoint: "gone", reason: "the endpoint answered 410 Gone" }]);
    const state = await harness.state.webhookDeliveries.getEndpoint("customers", "gone");
    assert.equal(state?.disabled, true);
    assert.match(state?.disabledReason ?? "", /410/);
    assert.equal(await metricValue(harness.metrics, "junction_webhook_endpoints_disabled_total", { endpoint: "gone", reason: "gone" }), 1);

    // A later event: the other endpoint gets it, the disabled one does not, and its delivery waits.
    await harness.write([{ id: "m2", type: "a" }]);
    await settled(harness, "other", "m2");
    assert.equal(gone.requests.length, 1, "nothing more was sent to the disabled endpoint");
    const waiting = (await harness.deliveries("gone")).find((delivery) => delivery.messageId === "m2");
    assert.equal(waiting?.status, "pending");
    assert.equal(waiting?.attempts, 0);

    const health = await harness.webhooks.connection("customers").health(new AbortController().signal);
    assert.equal(health.status, "degraded");
    assert.match(health.detail ?? "", /disabled: gone \(the endpoint answered 410 Gone\)/);
    assert.match(health.detail ?? "", /1 pending/);
  });

  test("an endpoint on a private address is refused by default: the attempt is logged with the refusal, the server never gets a request", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const port = new URL(api.url).port;
    const harness = await outbound({
      schedule: ["0s", "50ms"],
      endpoints: { literal: { url: api.url, secret: generateStandardWebhookSecret() }, named: { url: `http://localhost:${port}/hook`, secret: generateStandardWebhookSecret() } },
    });
    await harness.write([{ id: "m", type: "a" }]);
    for (const [endpoint, refusal] of [
      ["literal", /refusing to connect to 127\.0\.0\.1:\d+: 127\.0\.0\.1 is a loopback address; allow it with allow_private: true or allow: \["127\.0\.0\.1"\]/],
      ["named", /refusing to connect to localhost: (127\.0\.0\.1|::1) is a loopback address; allow it with allow_private: true/],
    ] as const) {
      const delivery = await settled(harness, endpoint);
      assert.equal(delivery.status, "failed", `${endpoint}: a refused address fails the delivery at once`);
      assert.equal(delivery.attempts, 1);
      const [attempt] = await harness.state.webhookDeliveries.attempts(delivery.id);
      assert.equal(attempt?.status, undefined);
      assert.match(attempt?.error ?? "", refusal);
      assert.equal(await metricValue(harness.metrics, "junction_webhook_attempts_total", { endpoint, result: "refused" }), 1);
    }
    assert.equal(api.requests.length, 0, "the server never got a request");
  });

  test("a private address is reachable with allow_private, or with an allow entry", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const port = new URL(api.url).port;
    const open = await outbound({ allow_private: true, endpoints: { named: { url: `http://localhost:${port}/`, secret: generateStandardWebhookSecret() } } });
    const listed = await outbound({ allow: ["127.0.0.0/8", "::1"], endpoints: { literal: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await open.write([{ id: "a", type: "t" }]);
    await listed.write([{ id: "b", type: "t" }]);
    assert.equal((await settled(open, "named")).status, "delivered");
    assert.equal((await settled(listed, "literal")).status, "delivered");
    assert.equal(api.requests.length, 2);
  });

  test("Retry-After moves the next attempt later than the schedule says", async () => {
    const api = await receiver((_request, response) => json(response, 503, {}, { "retry-after": "120" }));
    const harness = await outbound({ schedule: ["0s", "10ms"], allow_private: true, endpoints: { busy: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await harness.write([{ id: "m", type: "a" }]);
    const delivery = await waitFor("the first attempt", async () => {
      const [found] = await harness.deliveries("busy");
      return found !== undefined && found.attempts === 1 ? found : undefined;
    });
    assert.equal(delivery.status, "pending");
    assert.equal(delivery.lastStatus, 503);
    const gap = (delivery.nextAttemptAt?.getTime() ?? 0) - (delivery.lastAttemptAt?.getTime() ?? 0);
    assert.ok(gap >= 119_000, `the next attempt waits for Retry-After (120 s), not the 10 ms schedule; it is ${gap} ms after the last`);
  });

  test("after the last scheduled attempt the delivery fails", async () => {
    const api = await receiver((_request, response) => json(response, 500, {}));
    const harness = await outbound({ schedule: ["0s", "20ms"], allow_private: true, endpoints: { down: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await harness.write([{ id: "m", type: "a" }]);
    const delivery = await settled(harness, "down");
    assert.equal(delivery.status, "failed");
    assert.equal(delivery.attempts, 2);
    assert.equal(api.requests.length, 2);
    assert.equal(await metricValue(harness.metrics, "junction_webhook_deliveries_total", { endpoint: "down", outcome: "failed" }), 1);
  });

  test("event type filters: each endpoint gets only the events it subscribed to", async () => {
    const received: Record<string, string[]> = { orders: [], invoices: [], everything: [] };
    const record = (name: string) => (request: RecordedRequest, response: Parameters<Parameters<typeof startLocalApi>[0]>[1]) => {
      received[name]?.push((JSON.parse(request.body) as { kind: string }).kind);
      json(response, 200, {});
    };
    const orders = await receiver(record("orders"));
    const invoices = await receiver(record("invoices"));
    const everything = await receiver(record("everything"));
    const harness = await outbound({
      event_type: "kind",
      allow_private: true,
      endpoints: {
        orders: { url: orders.url, secret: generateStandardWebhookSecret(), events: ["order.*"] },
        invoices: { url: invoices.url, secret: generateStandardWebhookSecret(), events: ["invoice.paid"] },
        everything: { url: everything.url, secret: generateStandardWebhookSecret() },
      },
    });
    await harness.write([
      { id: "1", kind: "order.created" },
      { id: "2", kind: "order.line.added" },
      { id: "3", kind: "invoice.paid" },
      { id: "4", kind: "invoice.voided" },
    ]);
    await waitFor("every delivery to settle", async () => {
      const all = await harness.deliveries();
      return all.length === 7 && all.every((delivery) => delivery.status === "delivered") ? true : undefined;
    });
    assert.deepEqual(received.orders?.sort(), ["order.created", "order.line.added"]);
    assert.deepEqual(received.invoices, ["invoice.paid"]);
    assert.deepEqual(received.everything?.sort(), ["invoice.paid", "invoice.voided", "order.created", "order.line.added"]);
    assert.deepEqual((await harness.deliveries("invoices")).map((delivery) => delivery.eventType), ["invoice.paid"]);
  });

  test("a target's own event_type replaces the entry's; health is healthy with the counts", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const harness = await outbound({ allow_private: true, endpoints: { a: { url: api.url, secret: generateStandardWebhookSecret(), events: ["invoice.*"] } } });
    const connection = harness.webhooks.connection("customers");
    const sink = connection.sink?.({ webhook: "customers", event_type: "'invoice.' & status" }, { integration: "billing", logger });
    const { createMessage } = await import("../../../src/core/message.js");
    const outcome = await sink?.write([createMessage({ id: "i1", payload: { type: "ignored", status: "paid" } })], new AbortController().signal);
    assert.deepEqual(outcome?.failures, []);
    const delivery = await settled(harness, "a");
    assert.equal(delivery.eventType, "invoice.paid");
    const health = await connection.health(new AbortController().signal);
    assert.equal(health.status, "healthy");
    assert.equal(health.detail, "0 pending; 0 failed in the last 24 h");
    assert.throws(() => harness.webhooks.connection("nope"), /no outbound webhook "nope" under webhooks.outbound \(defined: customers\)/);
  });

  test("a message without an event type fails on its own; the others are enqueued", async () => {
    const api = await receiver((_request, response) => json(response, 200, {}));
    const harness = await outbound({ allow_private: true, endpoints: { a: { url: api.url, secret: generateStandardWebhookSecret() } } });
    const { createMessage } = await import("../../../src/core/message.js");
    const outcome = await harness.sink.write(
      [createMessage({ id: "ok", payload: { type: "t" } }), createMessage({ id: "untyped", payload: { other: 1 } })],
      new AbortController().signal,
    );
    assert.deepEqual(outcome.failures.map((failure) => failure.index), [1]);
    const error = outcome.failures[0]?.error as { kind: string; message: string };
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /event_type `type` gave no value/);
    await settled(harness, "a");
    assert.deepEqual((await harness.deliveries()).map((delivery) => delivery.messageId), ["ok"]);
  });

  test("throttle caps the attempts to one endpoint; a throttled or slow endpoint does not hold up the others", async () => {
    const throttled = await receiver((_request, response) => json(response, 200, {}));
    const held: Array<() => void> = [];
    const slow = await receiver((_request, response) => {
      held.push(() => json(response, 200, {}));
    });
    const fast = await receiver((_request, response) => json(response, 200, {}));
    const harness = await outbound({
      allow_private: true,
      endpoints: {
        throttled: { url: throttled.url, secret: generateStandardWebhookSecret(), throttle: { limit: 2, per: "1h" } },
        slow: { url: slow.url, secret: generateStandardWebhookSecret(), concurrency: 2 },
        fast: { url: fast.url, secret: generateStandardWebhookSecret() },
      },
    });
    await harness.write(Array.from({ length: 6 }, (_, index) => ({ id: `m${index}`, type: "t" })));
    await waitFor("every delivery to the fast endpoint", async () => {
      const deliveries = await harness.deliveries("fast");
      return deliveries.length === 6 && deliveries.every((delivery) => delivery.status === "delivered") ? true : undefined;
    });
    await waitFor("the slow endpoint to hold two requests", () => (held.length === 2 ? true : undefined));
    const throttledDeliveries = await waitFor("two deliveries to the throttled endpoint", async () => {
      const deliveries = await harness.deliveries("throttled");
      return deliveries.filter((delivery) => delivery.status === "delivered").length === 2 ? deliveries : undefined;
    });
    assert.equal(throttled.requests.length, 2, "two permits per hour: two attempts, the rest wait");
    assert.equal(throttledDeliveries.filter((delivery) => delivery.status === "pending" && delivery.attempts === 0).length, 4);
    assert.equal(slow.requests.length, 2, "the slow endpoint has its concurrency (2) in flight and no more");
    for (const release of held.splice(0)) release();
    await waitFor("every delivery to the slow endpoint", async () => {
      for (const release of held.splice(0)) release();
      const deliveries = await harness.deliveries("slow");
      return deliveries.every((delivery) => delivery.status === "delivered") ? true : undefined;
    });
    assert.equal(slow.requests.length, 6);
  });

  test("an endpoint failing for longer than disable_after is disabled with an event", async () => {
    const api = await receiver((_request, response) => json(response, 500, {}));
    const harness = await outbound({
      schedule: ["0s", "300ms", "300ms", "300ms"],
      disable_after: "200ms",
      allow_private: true,
      endpoints: { flaky: { url: api.url, secret: generateStandardWebhookSecret() } },
    });
    await harness.write([{ id: "m", type: "a" }]);
    await waitFor("the endpoint_disabled event", () => (harness.disabled.length > 0 ? true : undefined));
    const [event] = harness.disabled;
    assert.equal(event?.endpoint, "flaky");
    assert.match(event?.reason ?? "", /every attempt failed for .* \(disable_after\)/);
    const state = await harness.state.webhookDeliveries.getEndpoint("customers", "flaky");
    assert.equal(state?.disabled, true);
    assert.ok(state?.failingSince instanceof Date);
    const [delivery] = await harness.deliveries("flaky");
    assert.equal(delivery?.attempts, 2, "the second failure, past disable_after, disabled the endpoint");
    assert.equal(delivery?.status, "pending", "its delivery waits for the endpoint to be enabled again");
    assert.equal(await metricValue(harness.metrics, "junction_webhook_endpoints_disabled_total", { endpoint: "flaky", reason: "failing" }), 1);
  });

  test("stop waits for the attempt in flight and records it; an aborted stop cancels it and leaves the delivery pending", async () => {
    const held: Array<() => void> = [];
    const api = await receiver((_request, response) => {
      held.push(() => json(response, 200, {}));
    });
    const graceful = await outbound({ allow_private: true, endpoints: { a: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await graceful.write([{ id: "m", type: "a" }]);
    await waitFor("the request to arrive", () => (held.length === 1 ? true : undefined));
    let stopped = false;
    const stopping = graceful.webhooks.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, "stop waits for the attempt in flight");
    held.shift()?.();
    await stopping;
    assert.equal((await graceful.deliveries("a"))[0]?.status, "delivered");

    const hurried = await outbound({ allow_private: true, endpoints: { b: { url: api.url, secret: generateStandardWebhookSecret() } } });
    await hurried.write([{ id: "m", type: "a" }]);
    await waitFor("the request to arrive", () => (held.length === 1 ? true : undefined));
    await hurried.webhooks.stop(AbortSignal.abort());
    const [delivery] = await hurried.deliveries("b");
    assert.equal(delivery?.status, "pending");
    assert.equal(delivery?.attempts, 0, "a cancelled attempt is not recorded: the delivery is sent again after its lease");
    assert.equal((await hurried.state.webhookDeliveries.attempts(delivery?.id ?? "")).length, 0);
    held.shift()?.();
  });
});
