import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { sign as octokitSign } from "@octokit/webhooks-methods";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import type { RuntimeResult } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openSqlite } from "../../../src/state/sqlite/sqlite-driver.js";
import { generateStandardWebhookSecret } from "../../../src/webhooks/signatures/index.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir();
const standardSecret = generateStandardWebhookSecret();
const oldStandardSecret = generateStandardWebhookSecret();
const stripeSecret = "whsec_stripe_test_secret_0123456789";
const githubSecret = "gh-secret-for-tests";

const CONFIG = `version: 1
state: sqlite:./state.db
admin: { listen: "127.0.0.1:0" }
log: { level: silent }
connections:
  db: { type: sqlite, path: ./events.db }
webhooks:
  inbound:
    billing:
      path: /webhooks/billing
      verifier: { type: standard, secrets: ["${standardSecret}", "${oldStandardSecret}"] }
      max_body: 2kb
    stripe:
      path: /webhooks/stripe
      verifier: { type: stripe, secret: "${stripeSecret}" }
    github:
      path: /webhooks/github
      verifier: { type: github, secret: "${githubSecret}" }
integrations:
  payments:
    source: { webhook: billing, events: ["payment.*"] }
    target: { connection: db, table: payments, mode: upsert, key: id, create_table: true }
    transform:
      - map: "{ 'id': $message.metadata.event_id, 'type': type, 'amount': amount }"
    sync: { trigger: continuous, batch_period: 10ms }
  audit:
    source: { webhook: billing }
    target: { connection: db, table: audit, mode: upsert, key: id, create_table: true }
    transform:
      - map: "{ 'id': $message.metadata.event_id, 'type': $message.metadata.event_type }"
    sync: { trigger: continuous, batch_period: 10ms }
  charges:
    source: { webhook: stripe, events: ["charge.succeeded"] }
    target: { connection: db, table: charges, mode: upsert, key: id, create_table: true }
    transform:
      - map: "{ 'id': id, 'amount': data.object.amount }"
    sync: { trigger: continuous, batch_period: 10ms }
  pushes:
    source: { webhook: github, events: [push] }
    target: { connection: db, table: pushes, mode: upsert, key: id, create_table: true }
    transform:
      - map: "{ 'id': $message.metadata.event_id, 'ref': ref }"
    sync: { trigger: continuous, batch_period: 10ms }
`;

let runtime: JunctionRuntime;
let running: Promise<RuntimeResult>;
let base: string;

before(async () => {
  const loaded = await loadConfigFromString(CONFIG, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
  runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
  running = runtime.run();
  for (let i = 0; i < 100 && runtime.webhooksUrl === undefined; i++) await sleep(20);
  assert.ok(runtime.webhooksUrl, "the admin server serves the webhooks");
  base = runtime.webhooksUrl;
});

after(async () => {
  runtime.shutdown("test over");
  const result = await running;
  await runtime.close();
  dir.remove();
  assert.ok(result.ok, result.errors.join("; "));
});

interface Sent {
  status: number;
  body: Record<string, unknown>;
}

async function post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<Sent> {
  const response = await fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function standardHeaders(secret: string, id: string, body: string, at = new Date()): Record<string, string> {
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) };
}

function rows(table: string): Array<Record<string, unknown>> {
  const db = openSqlite(join(dir.path, "events.db"), { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
  } catch {
    return [];
  } finally {
    db.close();
  }
}

async function waitForRows(table: string, count: number): Promise<Array<Record<string, unknown>>> {
  for (let i = 0; i < 250; i++) {
    const found = rows(table);
    if (found.length >= count) return found;
    await sleep(20);
  }
  return rows(table);
}

describe("inbound webhooks through junction run", () => {
  test("verified events are stored, answered 200, routed by type to the integrations that take them, and a replayed id stores nothing", { timeout: 30_000 }, async () => {
    const first = JSON.stringify({ type: "payment.succeeded", amount: 1200 });
    const second = JSON.stringify({ type: "customer.created", amount: 0 });
    assert.deepEqual(await post("/webhooks/billing", first, standardHeaders(standardSecret, "msg_pay1", first)), {
      status: 200,
      body: { status: "accepted", id: "msg_pay1", routed: 2 },
    });
    assert.deepEqual((await post("/webhooks/billing", second, standardHeaders(oldStandardSecret, "msg_cust1", second))).body, { status: "accepted", id: "msg_cust1", routed: 1 });
    // The sender retries the first delivery (same id, new timestamp and signature): acknowledged, not stored again.
    assert.deepEqual(await post("/webhooks/billing", first, standardHeaders(standardSecret, "msg_pay1", first)), { status: 200, body: { status: "duplicate", id: "msg_pay1" } });

    assert.deepEqual(await waitForRows("payments", 1), [{ id: "msg_pay1", type: "payment.succeeded", amount: 1200 }]);
    assert.deepEqual(await waitForRows("audit", 2), [
      { id: "msg_cust1", type: "customer.created" },
      { id: "msg_pay1", type: "payment.succeeded" },
    ]);
    await sleep(100);
    assert.equal(rows("payments").length, 1);
    assert.equal(await runtime.state.webhookInbox.count({ endpoint: "billing" }), 0, "settled events leave the inbox");
  });

  test("stripe: a request signed by the stripe package is taken, its event id read from the body", { timeout: 30_000 }, async () => {
    const stripe = new Stripe("sk_test_unused");
    const payload = JSON.stringify({ id: "evt_1", type: "charge.succeeded", data: { object: { amount: 4200 } } });
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: stripeSecret });
    assert.deepEqual((await post("/webhooks/stripe", payload, { "stripe-signature": signature })).body, { status: "accepted", id: "evt_1", routed: 1 });
    const other = JSON.stringify({ id: "evt_2", type: "charge.refunded", data: { object: { amount: 1 } } });
    assert.deepEqual((await post("/webhooks/stripe", other, { "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: other, secret: stripeSecret }) })).body, {
      status: "accepted",
      id: "evt_2",
      routed: 0,
    });
    assert.deepEqual(await waitForRows("charges", 1), [{ id: "evt_1", amount: 4200 }]);
  });

  test("github: signed by @octokit/webhooks-methods, routed by the X-GitHub-Event header, deduplicated by X-GitHub-Delivery", { timeout: 30_000 }, async () => {
    const payload = JSON.stringify({ ref: "refs/heads/main" });
    const headers = { "x-hub-signature-256": await octokitSign(githubSecret, payload), "x-github-event": "push", "x-github-delivery": "d-100" };
    assert.equal((await post("/webhooks/github", payload, headers)).body.status, "accepted");
    assert.equal((await post("/webhooks/github", payload, headers)).body.status, "duplicate", "a captured request replayed as is");
    assert.deepEqual(await waitForRows("pushes", 1), [{ id: "d-100", ref: "refs/heads/main" }]);
  });

  test("an attack corpus at the HTTP level: every request gets its status and nothing rejected is stored", { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ type: "payment.succeeded", amount: 1 });
    const now = new Date();
    const valid = (id: string): Record<string, string> => standardHeaders(standardSecret, id, body, now);
    const forged = generateStandardWebhookSecret();
    const signatureOf = (headers: Record<string, string>): string => headers["webhook-signature"] as string;
    const stripe = new Stripe("sk_test_unused");
    const stripePayload = JSON.stringify({ id: "evt_attack", type: "charge.succeeded", data: { object: { amount: 1 } } });
    const githubPayload = JSON.stringify({ ref: "refs/heads/attack" });
    const githubSignature = await octokitSign(githubSecret, githubPayload);
    const cases: Array<{ name: string; path?: string; body?: string | Buffer; headers: Record<string, string>; status: number; method?: string }> = [
      { name: "signed with an unknown secret", headers: standardHeaders(forged, "msg_a1", body), status: 401 },
      { name: "signature of another body", headers: { ...valid("msg_a2"), "webhook-signature": signatureOf(standardHeaders(standardSecret, "msg_a2", "{}", now)) }, status: 401 },
      { name: "body re-serialised with other spacing", body: JSON.stringify(JSON.parse(body), null, 2), headers: valid("msg_a3"), status: 401 },
      { name: "body with one byte changed", body: body.replace("1", "2"), headers: valid("msg_a4"), status: 401 },
      { name: "id changed after signing", headers: { ...valid("msg_a5"), "webhook-id": "msg_other" }, status: 401 },
      { name: "timestamp changed after signing", headers: { ...valid("msg_a6"), "webhook-timestamp": String(Math.floor(now.getTime() / 1000) + 1) }, status: 401 },
      { name: "stale timestamp (10 minutes old)", headers: standardHeaders(standardSecret, "msg_a7", body, new Date(now.getTime() - 600_000)), status: 401 },
      { name: "future timestamp (10 minutes ahead)", headers: standardHeaders(standardSecret, "msg_a8", body, new Date(now.getTime() + 600_000)), status: 401 },
      { name: "missing webhook-signature", headers: { "webhook-id": "msg_a9", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)) }, status: 400 },
      { name: "missing webhook-timestamp", headers: { "webhook-id": "msg_a10", "webhook-signature": signatureOf(valid("msg_a10")) }, status: 400 },
      { name: "missing webhook-id", headers: { "webhook-timestamp": valid("x")["webhook-timestamp"] as string, "webhook-signature": signatureOf(valid("msg_a11")) }, status: 400 },
      { name: "no signature headers at all", headers: {}, status: 400 },
      { name: "non-numeric timestamp", headers: { ...valid("msg_a12"), "webhook-timestamp": "yesterday" }, status: 400 },
      { name: "signature in hex instead of base64", headers: { ...valid("msg_a13"), "webhook-signature": `v1,${Buffer.from(signatureOf(valid("msg_a13")).slice(3), "base64").toString("hex")}` }, status: 401 },
      { name: "signature with an unknown version only", headers: { ...valid("msg_a14"), "webhook-signature": `v9,${signatureOf(valid("msg_a14")).slice(3)}` }, status: 401 },
      { name: "empty signature list entry", headers: { ...valid("msg_a15"), "webhook-signature": "v1," }, status: 400 },
      { name: "truncated signature", headers: { ...valid("msg_a16"), "webhook-signature": signatureOf(valid("msg_a16")).slice(0, 20) }, status: 401 },
      { name: "body larger than max_body (2kb)", body: JSON.stringify({ type: "payment.succeeded", pad: "x".repeat(3000) }), headers: valid("msg_a17"), status: 413 },
      { name: "GET instead of POST", method: "GET", headers: {}, status: 405 },
      { name: "unknown path", path: "/webhooks/nope", headers: valid("msg_a18"), status: 404 },
      { name: "stripe: signed with another secret", path: "/webhooks/stripe", body: stripePayload, headers: { "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: stripePayload, secret: "whsec_wrong" }) }, status: 401 },
      {
        name: "stripe: stale timestamp",
        path: "/webhooks/stripe",
        body: stripePayload,
        headers: { "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: stripePayload, secret: stripeSecret, timestamp: Math.floor(now.getTime() / 1000) - 3600 }) },
        status: 401,
      },
      { name: "stripe: missing Stripe-Signature", path: "/webhooks/stripe", body: stripePayload, headers: {}, status: 400 },
      { name: "github: signature of another body", path: "/webhooks/github", body: JSON.stringify({ ref: "refs/heads/other" }), headers: { "x-hub-signature-256": githubSignature, "x-github-event": "push", "x-github-delivery": "d-a1" }, status: 401 },
      { name: "github: sha1 header only", path: "/webhooks/github", body: githubPayload, headers: { "x-hub-signature": "sha1=0000", "x-github-event": "push", "x-github-delivery": "d-a2" }, status: 400 },
    ];
    assert.ok(cases.length >= 20);
    const before = { payments: rows("payments").length, charges: rows("charges").length, pushes: rows("pushes").length };
    const outcomes: string[] = [];
    for (const c of cases) {
      const init: RequestInit = { method: c.method ?? "POST", headers: { "content-type": "application/json", ...c.headers } };
      if (init.method === "POST") init.body = c.body ?? body;
      const response = await fetch(`${base}${c.path ?? "/webhooks/billing"}`, init);
      await response.arrayBuffer();
      if (response.status !== c.status) outcomes.push(`${c.name}: expected ${c.status}, got ${response.status}`);
    }
    assert.deepEqual(outcomes, []);

    // One valid signature among several (a sender in mid-rotation) is accepted.
    const rotated = valid("msg_rotated");
    const mixed = { ...rotated, "webhook-signature": `${standardHeaders(forged, "msg_rotated", body, now)["webhook-signature"]} ${rotated["webhook-signature"]}` };
    assert.equal((await post("/webhooks/billing", body, mixed)).body.status, "accepted");
    await waitForRows("payments", before.payments + 1);
    await sleep(200);
    assert.equal(rows("payments").length, before.payments + 1, "only the genuine request became a row");
    assert.equal(rows("charges").length, before.charges);
    assert.equal(rows("pushes").length, before.pushes);
    const metrics = await runtime.metrics.metrics();
    assert.match(metrics, /junction_webhooks_received_total\{webhook="billing",outcome="bad_signature"\} [1-9]/);
    assert.match(metrics, /junction_webhooks_received_total\{webhook="billing",outcome="stale"\} 1\b/);
  });
});
