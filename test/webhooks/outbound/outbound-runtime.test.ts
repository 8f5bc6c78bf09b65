import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { generateStandardWebhookSecret } from "../../../src/webhooks/signatures/index.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

test("junction run: an integration writing to `target: { webhook }` gets its events signed to each subscribed endpoint, failed attempts retried on the schedule", { timeout: 30_000 }, async () => {
  const secret = generateStandardWebhookSecret();
  const received: Array<{ id: string; type: string; n: number }> = [];
  let calls = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      calls++;
      // Every third request fails: those deliveries are retried.
      if (calls % 3 === 0) {
        response.writeHead(503).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const event = new Webhook(secret).verify(body, request.headers as Record<string, string>) as { type: string; n: number };
      received.push({ id: request.headers["webhook-id"] as string, type: event.type, n: event.n });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const loaded = await loadConfigFromString(
      `version: 1
state: sqlite:./outbound-state.db
admin: false
connections:
  gen: { type: generate }
webhooks:
  outbound:
    customers:
      schedule: [0s, 20ms, 20ms, 20ms]
      allow_private: true
      endpoints:
        acme: { url: "http://127.0.0.1:${port}/hooks", events: ["order.*"], secret: "${secret}" }
        other: { url: "http://127.0.0.1:${port}/ignored", events: ["invoice.*"], secret: "${secret}" }
integrations:
  notify:
    source: { connection: gen, count: 12, payload: { n: "{{i}}" } }
    transform:
      - map: "{ 'type': 'order.created', 'n': $number(n) }"
    target: { webhook: customers }
`,
      join(dir.path, "junction.yaml"),
      builtinComponents,
      { env: {} },
    );
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
    const running = runtime.run();
    // Until every event arrived and every delivery's last attempt is recorded.
    const settled = async (): Promise<boolean> => {
      const all = await runtime.state.webhookDeliveries.list({ outbound: "customers" });
      return received.length >= 12 && all.length === 12 && all.every((d) => d.status === "delivered");
    };
    for (let i = 0; i < 500 && !(await settled()); i++) await sleep(20);
    runtime.shutdown("test over");
    const result = await running;
    const deliveries = await runtime.state.webhookDeliveries.list({ outbound: "customers" });
    await runtime.close();
    assert.ok(result.ok, result.errors.join("; "));
    assert.deepEqual(received.map((r) => r.n).sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1), "every event arrived once, verified");
    assert.equal(new Set(received.map((r) => r.id)).size, 12);
    assert.equal(deliveries.length, 12, "one delivery per event for the one subscribed endpoint");
    assert.ok(deliveries.every((d) => d.endpoint === "acme" && d.status === "delivered"));
    assert.ok(deliveries.some((d) => d.attempts > 1), "the 503s were retried");
  } finally {
    server.close();
  }
});
