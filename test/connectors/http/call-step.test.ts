// The `call` step: an API called in the middle of a pipeline, its answer read by the steps after
// it and written to a table. The local payment API records each charge and then answers 503 to
// the first attempt; the call is retried with the same Idempotency-Key, so each order is charged
// once, and the charge id the API gave lands in the row.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigProblemsError, loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { tempDir } from "../../support/temp-dir.js";
import { json, startLocalApi } from "./local-api.js";

const dir = tempDir();
after(() => dir.remove());

function config(apiUrl: string, table: string): string {
  return `version: 1
state: sqlite:./state-${table}.db
admin: false
connections:
  orders: { type: generate }
  payments:
    type: http
    base_url: ${apiUrl}
    resilience: { retry: { attempts: 3, backoff: constant, base_delay: 1ms, max_delay: 1ms, jitter: none } }
  db: { type: sqlite, path: ./charges.db }
integrations:
  charge_orders:
    source: { connection: orders, count: 6, payload: { order: "o{{i}}", amount: "{{i}}00" } }
    transform:
      - call:
          connection: payments
          method: POST
          path: /charges
          body: "{ 'order': order, 'amount': $number(amount) }"
          response: { into: metadata.charge, headers: [x-request-id] }
      - map: "{ 'order_id': order, 'charge_id': $message.metadata.charge.body.id, 'status': $message.metadata.charge.status, 'request': $message.metadata.charge.headers.'x-request-id' }"
    target: { connection: db, table: ${table}, mode: upsert, key: order_id, create_table: true }
    sync: { concurrency: 3 }
`;
}

async function run(yaml: string) {
  const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
  const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
  try {
    const result = await runtime.run({ once: true });
    const deadLetters = await runtime.state.listDeadLetters({});
    return { result, deadLetters };
  } finally {
    await runtime.close();
  }
}

function rows(table: string): Array<Record<string, unknown>> {
  const db = openSqlite(join(dir.path, "charges.db"), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY order_id`).all();
  } finally {
    db.close();
  }
}

describe("call step (http)", () => {
  test("the answer of an API called mid-pipeline is written by the target; a retried call charges once", { timeout: 30_000 }, async () => {
    const charges = new Map<string, string>();
    const byKey = new Map<string, string>();
    const failedOnce = new Set<string>();
    const api = await startLocalApi((request, response) => {
      const { order } = JSON.parse(request.body) as { order: string };
      const key = request.headers["idempotency-key"] as string;
      const known = byKey.get(key);
      if (known !== undefined) return json(response, 201, { id: known, order }, { "x-request-id": `req-${order}` });
      const id = `ch_${charges.size + 1}`;
      charges.set(id, order);
      byKey.set(key, id);
      if (!failedOnce.has(order)) {
        failedOnce.add(order);
        return json(response, 503, { error: "upstream timeout" });
      }
      json(response, 201, { id, order }, { "x-request-id": `req-${order}` });
    });
    try {
      const { result, deadLetters } = await run(config(api.url, "charges"));
      assert.ok(result.ok, result.errors.join("; "));
      assert.deepEqual(deadLetters, []);
      assert.equal(charges.size, 6, "one charge per order although every first attempt failed");
      assert.equal(api.requests.length, 12, "each order: the failed attempt and its retry");
      const written = rows("charges");
      assert.equal(written.length, 6);
      for (const row of written) {
        assert.equal(charges.get(row.charge_id as string), row.order_id, "the row holds the charge the API made for that order");
        assert.equal(row.status, 201);
        assert.equal(row.request, `req-${row.order_id as string}`);
      }
      const keys = new Map<string, Set<string>>();
      for (const request of api.requests) {
        const order = (JSON.parse(request.body) as { order: string }).order;
        keys.set(order, (keys.get(order) ?? new Set()).add(request.headers["idempotency-key"] as string));
      }
      assert.ok([...keys.values()].every((set) => set.size === 1), "the retry carried the same Idempotency-Key");
    } finally {
      await api.close();
    }
  });

  test("a call answered 4xx dead-letters its message at stage transform; the others are written", { timeout: 30_000 }, async () => {
    const api = await startLocalApi((request, response) => {
      const { order } = JSON.parse(request.body) as { order: string };
      if (order === "o4") return json(response, 422, { error: "card declined" });
      json(response, 201, { id: `ch_${order}`, order });
    });
    try {
      const { result, deadLetters } = await run(config(api.url, "charges_declined"));
      assert.ok(result.ok, result.errors.join("; "));
      assert.equal(rows("charges_declined").length, 5);
      assert.equal(deadLetters.length, 1);
      assert.equal(deadLetters[0]?.stage, "transform");
      assert.match(deadLetters[0]?.error.message ?? "", /422.*card declined/);
      assert.equal((deadLetters[0]?.message.payload as { order: string }).order, "o4", "the dead letter keeps the message as it came");
    } finally {
      await api.close();
    }
  });

  test("config: a call names a callable connection and takes that connector's target options", async () => {
    const bad = `version: 1
connections:
  orders: { type: generate }
  db: { type: sqlite, path: ./x.db }
  payments: { type: http, base_url: "http://127.0.0.1:1" }
integrations:
  a:
    source: { connection: orders, count: 1 }
    transform:
      - call: { connection: db, table: t }
      - call: { connection: paymnts }
      - call: { connection: payments, methd: POST }
    target: { connection: db, table: t }
`;
    const error = await loadConfigFromString(bad, join(dir.path, "bad.yaml"), builtinComponents, { env: {} }).catch((e: unknown) => e);
    assert.ok(error instanceof ConfigProblemsError);
    const messages = error.problems.map((p) => `${p.path}  ${p.message}`);
    assert.ok(messages.some((m) => /transform\.0\.call\.connection +connection "db" is of type "sqlite", which cannot be called; connector types that can: http/.test(m)), messages.join("\n"));
    assert.ok(messages.some((m) => /transform\.1\.call\.connection +unknown connection "paymnts" \(did you mean "payments"\?\)/.test(m)), messages.join("\n"));
    assert.ok(messages.some((m) => /transform\.2\.call\.methd +unknown key "methd" \(did you mean "method"\?\)/.test(m)), messages.join("\n"));
  });
});
