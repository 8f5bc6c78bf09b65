import assert from "node:assert/strict";
import { test } from "node:test";
import { Value } from "@sinclair/typebox/value";
import { outboundWebhookSchema, outboundWebhookTargetSchema } from "../../../src/config/schema/webhooks-outbound.js";
import { normaliseOutboundWebhook } from "../../../src/config/webhooks-outbound.js";
import { outboundWebhookIssues, outboundWebhookTargetIssues } from "../../../src/webhooks/outbound/config-issues.js";
import { SecretFields } from "../../../src/config/secrets.js";
import { SecretRedactor } from "../../../src/core/redact.js";
import { DEFAULT_SCHEDULE_MS } from "../../../src/webhooks/outbound/delivery-schedule.js";
import { EventFilter, eventFilterProblem } from "../../../src/webhooks/event-filter.js";
import { EndpointThrottle } from "../../../src/webhooks/outbound/endpoint-throttle.js";
import { generateStandardWebhookKeyPair, generateStandardWebhookSecret } from "../../../src/webhooks/signatures/standard-keys.js";

const secret = generateStandardWebhookSecret();

test("normalise: defaults filled in, durations in ms, header names in lower case", () => {
  const config = normaliseOutboundWebhook("customers", { endpoints: { acme: { url: "https://hooks.acme.example/j", secret, headers: { "X-Tenant": "acme" } } } });
  assert.deepEqual(config, {
    name: "customers",
    eventType: "type",
    payload: "$",
    scheduleMs: [...DEFAULT_SCHEDULE_MS],
    disableAfterMs: 5 * 86_400_000,
    timeoutMs: 15_000,
    allowPrivate: false,
    allow: [],
    concurrency: 32,
    endpoints: { acme: { name: "acme", url: "https://hooks.acme.example/j", events: [], secrets: [secret], concurrency: 4, headers: { "x-tenant": "acme" } } },
  });
  const full = normaliseOutboundWebhook("c", {
    event_type: "kind",
    payload: "{ 'data': $ }",
    schedule: ["0s", "50ms", 2000],
    disable_after: "1h",
    timeout: "5s",
    allow_private: true,
    allow: ["10.0.0.0/8"],
    concurrency: 3,
    endpoints: { a: { url: "http://x.example", secrets: [secret, secret], events: ["order.*"], throttle: { limit: 10, per: "1m" }, concurrency: 1 } },
  });
  assert.deepEqual(full.scheduleMs, [0, 50, 2000]);
  assert.equal(full.disableAfterMs, 3_600_000);
  assert.equal(full.timeoutMs, 5000);
  assert.equal(full.allowPrivate, true);
  assert.deepEqual(full.endpoints.a?.throttle, { limit: 10, perMs: 60_000 });
  assert.deepEqual(full.endpoints.a?.secrets, [secret, secret]);
  assert.equal(normaliseOutboundWebhook("c", { endpoints: { a: { url: "http://x.example", secret, throttle: { limit: 5 } } } }).endpoints.a?.throttle?.perMs, 1000);
});

test("schema: the proposed entry is valid; unknown keys and missing urls are not", () => {
  const entry = {
    event_type: "type",
    payload: "$",
    schedule: ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"],
    disable_after: "5d",
    timeout: "15s",
    allow_private: false,
    allow: ["10.0.0.0/8", "fd00::/8"],
    endpoints: { acme: { url: "https://hooks.acme.example/junction", events: ["order.*", "invoice.paid"], secret, throttle: { limit: 10, per: "1s" }, headers: { "x-tenant": "acme" } } },
  };
  assert.equal(Value.Check(outboundWebhookSchema, entry), true);
  assert.deepEqual(outboundWebhookIssues(entry), []);
  assert.equal(Value.Check(outboundWebhookSchema, { ...entry, retries: 3 }), false);
  assert.equal(Value.Check(outboundWebhookSchema, { endpoints: { a: { secret } } }), false);
  assert.equal(Value.Check(outboundWebhookSchema, { endpoints: {} }), false, "at least one endpoint");
  assert.equal(Value.Check(outboundWebhookSchema, { endpoints: { a: { url: "https://x.example", secret } }, schedule: [] }), false);
  assert.equal(Value.Check(outboundWebhookTargetSchema, { event_type: "kind" }), true);
  assert.equal(Value.Check(outboundWebhookTargetSchema, { payload: "$" }), false);
});

test("secrets are marked secret: `config print` and logs redact them", () => {
  const redactor = new SecretRedactor();
  const fields = new SecretFields(redactor);
  const rotated = generateStandardWebhookSecret();
  fields.collect(outboundWebhookSchema, { endpoints: { a: { url: "https://x.example", secret }, b: { url: "https://y.example", secrets: [rotated] } } }, []);
  assert.ok(fields.paths.some((path) => path.join(".") === "endpoints.a.secret"));
  assert.ok(fields.paths.some((path) => path.join(".").startsWith("endpoints.b.secrets")));
  assert.equal(redactor.redact(`signing with ${secret} and ${rotated}`), "signing with [redacted] and [redacted]");
});

test("issues: URLs, signing keys, filters, JSONata, CIDRs, reserved headers, endpoint names — never quoting a secret", () => {
  const pair = generateStandardWebhookKeyPair();
  const issues = outboundWebhookIssues({
    event_type: "type(",
    payload: "{",
    allow: ["10.0.0.0/33", "not-an-ip"],
    schedule: ["0s", "0s"],
    endpoints: {
      ftp: { url: "ftp://x.example/", secret },
      creds: { url: "https://user:pw@x.example/", secret },
      nokey: { url: "https://x.example/" },
      both: { url: "https://x.example/", secret, secrets: [secret] },
      public: { url: "https://x.example/", secret: pair.publicKey },
      plain: { url: "https://x.example/", secret: "hunter2-plain" },
      badb64: { url: "https://x.example/", secret: "whsec_!!!" },
      filters: { url: "https://x.example/", secret, events: ["order created"] },
      headers: { url: "https://x.example/", secret, headers: { "Webhook-Signature": "x", "User-Agent": "y" } },
      Upper: { url: "https://x.example/", secret },
    },
  });
  const byPath = new Map(issues.map((issue) => [issue.path.join("."), issue.message]));
  assert.match(byPath.get("event_type") ?? "", /invalid JSONata/);
  assert.match(byPath.get("payload") ?? "", /invalid JSONata/);
  assert.match(byPath.get("allow.0") ?? "", /prefix length/);
  assert.match(byPath.get("allow.1") ?? "", /not an IP address or CIDR/);
  assert.match(byPath.get("schedule") ?? "", /every delay is 0/);
  assert.match(byPath.get("endpoints.ftp.url") ?? "", /http:\/\/ or https:\/\//);
  assert.match(byPath.get("endpoints.creds.url") ?? "", /remove the credentials/);
  assert.match(byPath.get("endpoints.nokey") ?? "", /needs a signing key/);
  assert.match(byPath.get("endpoints.both.secrets") ?? "", /either `secret` or `secrets`/);
  assert.match(byPath.get("endpoints.public.secret") ?? "", /public key \(whpk_…\)/);
  assert.match(byPath.get("endpoints.plain.secret") ?? "", /expected a Standard Webhooks signing key/);
  assert.match(byPath.get("endpoints.badb64.secret") ?? "", /not valid base64/);
  assert.match(byPath.get("endpoints.filters.events.0") ?? "", /not an event type filter/);
  assert.match(byPath.get("endpoints.headers.headers.Webhook-Signature") ?? "", /set by Junction/);
  assert.match(byPath.get("endpoints.headers.headers.User-Agent") ?? "", /set by Junction/);
  assert.match(byPath.get("endpoints.Upper") ?? "", /endpoint names use/);
  const text = JSON.stringify(issues);
  for (const value of [secret, pair.publicKey, "hunter2-plain"]) assert.equal(text.includes(value), false, "no issue quotes a key");
  assert.deepEqual(outboundWebhookTargetIssues({ event_type: "kind" }), []);
  assert.match(outboundWebhookTargetIssues({ event_type: "$$(" })[0]?.message ?? "", /invalid JSONata/);
});

test("event filters: exact names, `*` for any run of characters, none for everything", () => {
  const filter = new EventFilter(["order.*", "invoice.paid"]);
  assert.equal(filter.matches("order.created"), true);
  assert.equal(filter.matches("order.line.added"), true);
  assert.equal(filter.matches("invoice.paid"), true);
  assert.equal(filter.matches("invoice.paid.late"), false);
  assert.equal(filter.matches("orders.created"), false, "the dot is literal");
  assert.equal(filter.matches("xorder.created"), false);
  assert.equal(new EventFilter([]).matches("anything"), true);
  assert.equal(new EventFilter(["*"]).matches("anything"), true);
  assert.equal(new EventFilter(["*.deleted"]).matches("user.deleted"), true);
  assert.equal(eventFilterProblem("order.*"), undefined);
  assert.match(eventFilterProblem("order (all)") ?? "", /not an event type filter/);
});

test("throttle: `limit` permits at once, then the wait until the next one", () => {
  const throttle = new EndpointThrottle(2, 3_600_000);
  assert.equal(throttle.tryAcquire(), 0);
  assert.equal(throttle.tryAcquire(), 0);
  const wait = throttle.tryAcquire();
  assert.ok(wait > 1_700_000 && wait <= 1_800_000, `the third permit comes after half an hour (${wait} ms)`);
});

test("the runtime refuses to start with a key, URL or allow entry that validation would have reported", async () => {
  const { OutboundRuntime } = await import("../../../src/webhooks/outbound/outbound-runtime.js");
  const build = (endpoint: Record<string, unknown>, extra: Record<string, unknown> = {}) => () =>
    new OutboundRuntime(normaliseOutboundWebhook("c", { ...extra, endpoints: { a: { url: "https://x.example", secret, ...endpoint } } }));
  assert.throws(build({ secret: "whsec_!!!" }), (error: Error & { kind?: string }) => error.kind === "config" && /endpoints\.a: key #1 is not valid base64/.test(error.message) && !error.message.includes("!!!"));
  assert.throws(build({ secret: undefined }), /needs a signing key/);
  assert.throws(build({ url: "ftp://x.example" }), /url must be http/);
  assert.throws(build({}, { allow: ["300.1.1.1"] }), /webhooks\.outbound\.c\.allow: "300\.1\.1\.1" is not an IP address/);
});
