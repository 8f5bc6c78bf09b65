import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import {
  generateStandardWebhookKeyPair,
  generateStandardWebhookSecret,
  githubWebhookVerifier,
  hmacWebhookVerifier,
  signGithubWebhook,
  signHmacWebhook,
  signStandardWebhook,
  signStripeWebhook,
  standardWebhookVerifier,
  stripeWebhookVerifier,
} from "../../../src/webhooks/signatures/index.js";
import type { HeaderSource, VerifyFailureReason, WebhookVerifier } from "../../../src/webhooks/signatures/index.js";

// Every request below is what an attacker (or a broken proxy) could send; each row names the exact outcome.
const NOW = 1_700_000_000_000;
const SECONDS = NOW / 1000;
const body = '{"event":"payment.succeeded","amount":4200,"currency":"eur"}';
const spacedBody = '{ "event": "payment.succeeded", "amount": 4200,  "currency": "eur" }';

const secret = generateStandardWebhookSecret();
const oldSecret = generateStandardWebhookSecret();
const otherSecret = generateStandardWebhookSecret();
const pair = generateStandardWebhookKeyPair();
const otherPair = generateStandardWebhookKeyPair();
const stripeSecret = "whsec_corpus_stripe";
const githubSecret = "corpus github secret";
const slack = { header: "X-Slack-Signature", prefix: "v0=", timestampHeader: "X-Slack-Request-Timestamp", signedContent: "v0:{timestamp}:{body}" };

const standard = standardWebhookVerifier({ secrets: secret });
const rotating = standardWebhookVerifier({ secrets: [secret, oldSecret] });
const asymmetric = standardWebhookVerifier({ secrets: otherPair.publicKey });
const stripe = stripeWebhookVerifier({ secrets: stripeSecret });
const github = githubWebhookVerifier({ secrets: githubSecret });
const slackLike = hmacWebhookVerifier({ ...slack, secrets: "slack signing secret" });
const sha512Base64 = hmacWebhookVerifier({ header: "X-Signature", algorithm: "sha512", encoding: "base64", secrets: "s512" });

function std(options: { body?: string; id?: string; at?: number; secrets?: string | string[] } = {}): Record<string, string> {
  return { ...signStandardWebhook({ body: options.body ?? body, id: options.id ?? "msg_corpus", now: options.at ?? NOW, secrets: options.secrets ?? secret }) };
}
function stdSignature(options: Parameters<typeof std>[0] = {}): string {
  return std(options)["webhook-signature"] as string;
}
function without(headers: Record<string, string>, name: string): Record<string, string> {
  const copy = { ...headers };
  delete copy[name];
  return copy;
}
function stripeHeader(options: { body?: string; at?: number; secret?: string } = {}): string {
  return signStripeWebhook({ body: options.body ?? body, secrets: options.secret ?? stripeSecret, now: options.at ?? NOW })["stripe-signature"];
}
const stripeV1 = (stripeHeader().split(",")[1] as string).slice(3);
const githubHex = (signGithubWebhook({ body, secret: githubSecret })["x-hub-signature-256"] as string).slice("sha256=".length);

interface AttackCase {
  name: string;
  verifier: WebhookVerifier;
  headers: HeaderSource;
  body?: unknown;
  expect: VerifyFailureReason | "ok";
}

const cases: AttackCase[] = [
  // Standard Webhooks, HMAC v1
  { name: "standard: genuine request", verifier: standard, headers: std(), expect: "ok" },
  { name: "standard: forged signature", verifier: standard, headers: { ...std(), "webhook-signature": `v1,${randomBytes(32).toString("base64")}` }, expect: "bad_signature" },
  { name: "standard: replay 6 minutes later (stale)", verifier: standard, headers: std({ at: NOW - 301_000 }), expect: "stale" },
  { name: "standard: exactly at the 5-minute edge is still accepted", verifier: standard, headers: std({ at: NOW - 300_000 }), expect: "ok" },
  { name: "standard: timestamp from the future", verifier: standard, headers: std({ at: NOW + 301_000 }), expect: "future" },
  { name: "standard: timestamp in milliseconds (13 digits)", verifier: standard, headers: { ...std(), "webhook-timestamp": String(NOW) }, expect: "malformed" },
  { name: "standard: timestamp a year ahead", verifier: standard, headers: { ...std(), "webhook-timestamp": String(SECONDS + 365 * 86_400) }, expect: "future" },
  { name: "standard: signature over the re-serialised body", verifier: standard, headers: std({ body: JSON.stringify(JSON.parse(spacedBody)) }), body: spacedBody, expect: "bad_signature" },
  { name: "standard: body re-serialised after signing", verifier: standard, headers: std({ body: spacedBody }), body: JSON.stringify(JSON.parse(spacedBody)), expect: "bad_signature" },
  { name: "standard: parsed JSON passed instead of raw bytes", verifier: standard, headers: std(), body: JSON.parse(body) as unknown, expect: "malformed" },
  { name: "standard: missing webhook-id", verifier: standard, headers: without(std(), "webhook-id"), expect: "missing_header" },
  { name: "standard: missing webhook-timestamp", verifier: standard, headers: without(std(), "webhook-timestamp"), expect: "missing_header" },
  { name: "standard: missing webhook-signature", verifier: standard, headers: without(std(), "webhook-signature"), expect: "missing_header" },
  { name: "standard: empty webhook-signature", verifier: standard, headers: { ...std(), "webhook-signature": "  " }, expect: "missing_header" },
  { name: "standard: non-numeric timestamp", verifier: standard, headers: { ...std(), "webhook-timestamp": "1700000000abc" }, expect: "malformed" },
  { name: "standard: negative timestamp", verifier: standard, headers: { ...std(), "webhook-timestamp": "-1" }, expect: "malformed" },
  { name: "standard: hex instead of base64 (wrong encoding)", verifier: standard, headers: { ...std(), "webhook-signature": `v1,${Buffer.from(stdSignature().slice(3), "base64").toString("hex")}` }, expect: "bad_signature" },
  { name: "standard: truncated signature", verifier: standard, headers: { ...std(), "webhook-signature": stdSignature().slice(0, 20) }, expect: "bad_signature" },
  { name: "standard: signature made with another secret", verifier: standard, headers: std({ secrets: otherSecret }), expect: "bad_signature" },
  { name: "standard: signature for another message id (id swapped)", verifier: standard, headers: { ...std({ id: "msg_other" }), "webhook-id": "msg_corpus" }, expect: "bad_signature" },
  { name: "standard: signature for another timestamp (timestamp bumped)", verifier: standard, headers: { ...std({ at: NOW - 600_000 }), "webhook-timestamp": String(SECONDS) }, expect: "bad_signature" },
  { name: "standard: one valid among several signatures", verifier: standard, headers: { ...std(), "webhook-signature": `v1,${randomBytes(32).toString("base64")} v2,abc ${stdSignature()} v1,Zm9v` }, expect: "ok" },
  { name: "standard: rotation, signed with the old secret, old and new configured", verifier: rotating, headers: std({ secrets: oldSecret }), expect: "ok" },
  { name: "standard: rotation, old secret no longer configured", verifier: standard, headers: std({ secrets: oldSecret }), expect: "bad_signature" },
  { name: "standard: empty body, signed", verifier: standard, headers: std({ body: "" }), body: "", expect: "ok" },
  { name: "standard: empty body, signature of the real body", verifier: standard, headers: std(), body: "", expect: "bad_signature" },
  { name: "standard: extra spaces around entries", verifier: standard, headers: { ...std(), "webhook-signature": `   v1,bm9wZQ==    ${stdSignature()}  ` }, expect: "ok" },
  { name: "standard: comma injection appends junk to a valid signature", verifier: standard, headers: { ...std(), "webhook-signature": `${stdSignature()},v1,AAAA` }, expect: "bad_signature" },
  { name: "standard: no version,signature entry at all", verifier: standard, headers: { ...std(), "webhook-signature": "garbage" }, expect: "malformed" },
  { name: "standard: valid bytes under an unknown version", verifier: standard, headers: { ...std(), "webhook-signature": `v2,${stdSignature().slice(3)}` }, expect: "bad_signature" },
  { name: "standard: webhook-id containing '.' (re-splitting the signed content)", verifier: standard, headers: { ...std(), "webhook-id": "msg.1700000000" }, expect: "malformed" },
  { name: "standard: signature header sent twice", verifier: standard, headers: { ...std(), "webhook-signature": [stdSignature(), "v1,Zm9v"] }, expect: "malformed" },
  { name: "standard: same header twice in different case", verifier: standard, headers: { ...std(), "Webhook-Signature": "v1,Zm9v" }, expect: "malformed" },
  // Standard Webhooks, ed25519 v1a
  { name: "v1a: signed with the trusted key", verifier: asymmetric, headers: std({ secrets: otherPair.secretKey }), expect: "ok" },
  { name: "v1a: signed with a wrong key", verifier: asymmetric, headers: std({ secrets: pair.secretKey }), expect: "bad_signature" },
  { name: "v1a: signature is not base64", verifier: asymmetric, headers: { ...std(), "webhook-signature": "v1a,!!!not-base64!!!" }, expect: "bad_signature" },
  { name: "v1a: an HMAC v1 signature offered to a public-key verifier", verifier: asymmetric, headers: std(), expect: "bad_signature" },
  // Stripe
  { name: "stripe: genuine request", verifier: stripe, headers: { "Stripe-Signature": stripeHeader() }, expect: "ok" },
  { name: "stripe: forged v1", verifier: stripe, headers: { "Stripe-Signature": `t=${SECONDS},v1=${randomBytes(32).toString("hex")}` }, expect: "bad_signature" },
  { name: "stripe: stale t", verifier: stripe, headers: { "Stripe-Signature": stripeHeader({ at: NOW - 301_000 }) }, expect: "stale" },
  { name: "stripe: future t", verifier: stripe, headers: { "Stripe-Signature": stripeHeader({ at: NOW + 400_000 }) }, expect: "future" },
  { name: "stripe: no t=", verifier: stripe, headers: { "Stripe-Signature": `v1=${stripeV1}` }, expect: "malformed" },
  { name: "stripe: two t= values", verifier: stripe, headers: { "Stripe-Signature": `t=${SECONDS},t=${SECONDS - 1000},v1=${stripeV1}` }, expect: "malformed" },
  { name: "stripe: only a v0 signature", verifier: stripe, headers: { "Stripe-Signature": `t=${SECONDS},v0=${stripeV1}` }, expect: "bad_signature" },
  { name: "stripe: one valid among several v1", verifier: stripe, headers: { "Stripe-Signature": `t=${SECONDS},v1=${"0".repeat(64)},v1=${stripeV1},v1=ff` }, expect: "ok" },
  { name: "stripe: extra commas and spaces", verifier: stripe, headers: { "Stripe-Signature": ` t=${SECONDS} ,, v1=${stripeV1} ,` }, expect: "ok" },
  { name: "stripe: base64 instead of hex", verifier: stripe, headers: { "Stripe-Signature": `t=${SECONDS},v1=${Buffer.from(stripeV1, "hex").toString("base64")}` }, expect: "bad_signature" },
  { name: "stripe: missing header", verifier: stripe, headers: {}, expect: "missing_header" },
  // GitHub
  { name: "github: genuine request", verifier: github, headers: signGithubWebhook({ body, secret: githubSecret, deliveryId: "d-1" }), expect: "ok" },
  { name: "github: missing header", verifier: github, headers: { "X-GitHub-Delivery": "d-1" }, expect: "missing_header" },
  { name: "github: legacy sha1= prefix", verifier: github, headers: { "X-Hub-Signature-256": `sha1=${githubHex.slice(0, 40)}` }, expect: "malformed" },
  { name: "github: base64 instead of hex", verifier: github, headers: { "X-Hub-Signature-256": `sha256=${Buffer.from(githubHex, "hex").toString("base64")}` }, expect: "bad_signature" },
  { name: "github: truncated signature", verifier: github, headers: { "X-Hub-Signature-256": `sha256=${githubHex.slice(0, 32)}` }, expect: "bad_signature" },
  { name: "github: signature over the re-serialised body", verifier: github, headers: signGithubWebhook({ body: JSON.stringify(JSON.parse(spacedBody)), secret: githubSecret }), body: spacedBody, expect: "bad_signature" },
  // Configurable HMAC
  { name: "hmac (Slack-like): genuine request", verifier: slackLike, headers: signHmacWebhook({ ...slack, secrets: "slack signing secret" }, { body, now: NOW }), expect: "ok" },
  { name: "hmac (Slack-like): stale timestamp", verifier: slackLike, headers: signHmacWebhook({ ...slack, secrets: "slack signing secret" }, { body, now: NOW - 600_000 }), expect: "stale" },
  { name: "hmac (Slack-like): missing timestamp header", verifier: slackLike, headers: without(signHmacWebhook({ ...slack, secrets: "slack signing secret" }, { body, now: NOW }), "X-Slack-Request-Timestamp"), expect: "missing_header" },
  { name: "hmac (Slack-like): signature without its v0= prefix", verifier: slackLike, headers: { "X-Slack-Request-Timestamp": String(SECONDS), "X-Slack-Signature": createHmac("sha256", "slack signing secret").update(`v0:${SECONDS}:${body}`).digest("hex") }, expect: "malformed" },
  { name: "hmac (sha512/base64): hex sent instead", verifier: sha512Base64, headers: { "X-Signature": createHmac("sha512", "s512").update(body).digest("hex") }, expect: "bad_signature" },
];

describe("webhook signature attack corpus", () => {
  test("holds at least 20 hostile requests", () => {
    assert.ok(cases.filter((c) => c.expect !== "ok").length >= 20);
  });

  for (const attack of cases) {
    test(attack.name, () => {
      const payload = attack.body === undefined ? Buffer.from(body) : typeof attack.body === "string" ? Buffer.from(attack.body) : attack.body;
      const result = attack.verifier.verify(payload as Buffer, attack.headers, NOW);
      if (attack.expect === "ok") {
        assert.equal(result.ok, true, result.ok ? "" : `${result.reason}: ${result.message}`);
      } else {
        assert.equal(result.ok, false, `expected ${attack.expect}, but the request was accepted`);
        if (!result.ok) assert.equal(result.reason, attack.expect, result.message);
      }
    });
  }

  test("rejections never reveal the secret or the expected signature", () => {
    const expected = stdSignature().slice(3);
    for (const attack of cases) {
      const result = attack.verifier.verify(Buffer.from(body), attack.headers, NOW);
      if (result.ok) continue;
      for (const hidden of [secret, secret.slice(6), oldSecret, stripeSecret, githubSecret, "slack signing secret", expected, stripeV1, githubHex]) {
        assert.ok(!result.message.includes(hidden), `${attack.name}: message leaks a secret or signature`);
      }
    }
  });

  test("the rotated-secret case reports which secret matched", () => {
    assert.deepEqual(rotating.verify(Buffer.from(body), std({ secrets: oldSecret }), NOW), { ok: true, keyIndex: 1, id: "msg_corpus", timestamp: SECONDS });
  });
});
