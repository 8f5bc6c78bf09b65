// Pitfall 1: a retried POST to a payment API must not charge twice. A local payment API
// records the charge, then answers 503 on the first attempt; the engine retries (honouring
// Retry-After) with the same Idempotency-Key, and the API records exactly one charge per order.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { tempDir } from "../../support/temp-dir.js";
import { json, startLocalApi } from "./local-api.js";
import type { LocalApi } from "./local-api.js";

interface Attempt {
  order: string;
  key: string | undefined;
  at: number;
}

/** Charges every request; a request whose Idempotency-Key it has seen gets the stored answer instead. Fails the first attempt of each order after charging. */
async function startPaymentApi(): Promise<{ api: LocalApi; charges: string[]; attempts: Attempt[] }> {
  const charges: string[] = [];
  const attempts: Attempt[] = [];
  const answered = new Map<string, unknown>();
  const failedOnce = new Set<string>();
  const api = await startLocalApi((request, response) => {
    const { order } = JSON.parse(request.body) as { order: string };
    const key = request.headers["idempotency-key"] as string | undefined;
    attempts.push({ order, key, at: Date.now() });
    if (key !== undefined && answered.has(key)) return json(response, 201, answered.get(key), { "idempotent-replayed": "true" });
    charges.push(order);
    const charge = { id: `ch_${charges.length}`, order };
    if (key !== undefined) answered.set(key, charge);
    if (!failedOnce.has(order)) {
      failedOnce.add(order);
      // The charge is recorded, but the client never learns it: the classic double-charge setup.
      return json(response, 503, { error: "upstream timeout" }, { "retry-after": "1" });
    }
    json(response, 201, charge);
  });
  return { api, charges, attempts };
}

describe("double charge through the runtime", () => {
  const dir = tempDir();
  const servers: LocalApi[] = [];
  after(async () => {
    for (const server of servers) await server.close();
    dir.remove();
  });

  async function run(apiUrl: string, idempotency: string, stateFile: string): Promise<JunctionRuntime> {
    const yaml = `version: 1
state: sqlite:./${stateFile}
admin: false
connections:
  orders: { type: generate }
  payments:
    type: http
    base_url: ${apiUrl}/v1
    auth: { type: bearer, token: test-token-123 }
integrations:
  charge_orders:
    source: { connection: orders, count: 3, batch_size: 3, payload: { order: "order-{{i}}", amount: 42 } }
    target: { connection: payments, path: /charges, ${idempotency} response: { into: metadata.response } }
    resilience: { retry: { attempts: 4, base_delay: 20ms, max_delay: 100ms } }
`;
    const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
    const result = await runtime.run({ once: true });
    assert.ok(result.ok, result.errors.join("; "));
    return runtime;
  }

  test("the API fails the first attempt after charging: retried with the same Idempotency-Key, one charge per order", { timeout: 30_000 }, async () => {
    const { api, charges, attempts } = await startPaymentApi();
    servers.push(api);
    const runtime = await run(api.url, "", "state-a.db");
    try {
      assert.deepEqual(await runtime.state.countDeadLetters(), 0);
    } finally {
      await runtime.close();
    }
    assert.deepEqual([...charges].sort(), ["order-1", "order-2", "order-3"], "exactly one charge per order");
    for (const order of ["order-1", "order-2", "order-3"]) {
      const mine = attempts.filter((attempt) => attempt.order === order);
      assert.equal(mine.length, 2, `${order}: a failed attempt and its retry`);
      assert.ok(mine[0]?.key !== undefined && mine[0].key.length > 0, "the first attempt carries a key");
      assert.equal(mine[1]?.key, mine[0]?.key, `${order}: the same Idempotency-Key on both attempts`);
      assert.ok((mine[1]?.at ?? 0) - (mine[0]?.at ?? 0) >= 900, `${order}: the retry waited for Retry-After: 1`);
    }
    assert.equal(new Set(attempts.map((attempt) => attempt.key)).size, 3, "each order has its own key");
  });

  test("the naive version (no idempotency key) charges twice: the pitfall this guards against", { timeout: 30_000 }, async () => {
    const { api, charges } = await startPaymentApi();
    servers.push(api);
    const runtime = await run(api.url, "idempotency_key: false,", "state-b.db");
    await runtime.close();
    assert.equal(charges.length, 6, "every order charged twice without a key");
  });
});
