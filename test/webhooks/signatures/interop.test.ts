import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import {
  generateStandardWebhookSecret,
  signGithubWebhook,
  signStandardWebhook,
  signStripeWebhook,
  verifyGithubWebhook,
  verifyStandardWebhook,
  verifyStripeWebhook,
} from "../../../src/webhooks/signatures/index.js";

const body = '{"id":"evt_1","object":"event","type":"invoice.paid","data":{"amount":1250,"note":"caf\u00e9 \ud83c\udf70"}}';
const stripe = new Stripe("sk_test_interop");

describe("Standard Webhooks interop (standardwebhooks package)", () => {
  test("standardwebhooks signs → Junction verifies", () => {
    const secret = generateStandardWebhookSecret();
    const now = new Date();
    const signature = new Webhook(secret).sign("msg_interop1", now, body);
    const headers = { "webhook-id": "msg_interop1", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": signature };
    const result = verifyStandardWebhook(Buffer.from(body), headers, { secrets: secret, now: now.getTime() });
    assert.deepEqual(result, { ok: true, keyIndex: 0, id: "msg_interop1", timestamp: Math.floor(now.getTime() / 1000) });
  });

  test("Junction signs → standardwebhooks verifies, also with two keys (rotation on the sending side)", () => {
    const [oldSecret, newSecret] = [generateStandardWebhookSecret(), generateStandardWebhookSecret()];
    const headers = signStandardWebhook({ body, id: "msg_interop2", secrets: [newSecret, oldSecret] });
    assert.deepEqual(new Webhook(newSecret).verify(body, { ...headers }), JSON.parse(body));
    assert.deepEqual(new Webhook(oldSecret).verify(body, { ...headers }), JSON.parse(body));
    assert.throws(() => new Webhook(generateStandardWebhookSecret()).verify(body, { ...headers }), /No matching signature/);
  });

  test("both sides produce the spec's published v1 test vector", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const payload = '{"test": 2432232314}';
    const expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert.equal(new Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", new Date(1614265330_000), payload), expected);
    const ours = signStandardWebhook({ body: payload, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", now: 1614265330_000, secrets: secret });
    assert.equal(ours["webhook-signature"], expected);
  });
});

describe("Stripe interop (stripe package)", () => {
  test("generateTestHeaderString signs → Junction verifies", () => {
    const secret = "whsec_stripe_interop_secret";
    const timestamp = Math.floor(Date.now() / 1000);
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
    const result = verifyStripeWebhook(Buffer.from(body), { "Stripe-Signature": header }, { secrets: secret, now: timestamp * 1000 });
    assert.deepEqual(result, { ok: true, keyIndex: 0, timestamp });
  });

  test("Junction signs → constructEvent verifies", () => {
    const secret = "whsec_stripe_interop_secret";
    const headers = signStripeWebhook({ body, secrets: secret });
    const event = stripe.webhooks.constructEvent(Buffer.from(body), headers["stripe-signature"], secret);
    assert.equal(event.id, "evt_1");
    assert.throws(() => stripe.webhooks.constructEvent(Buffer.from(body), headers["stripe-signature"], "whsec_other"), /No signatures found/);
  });

  test("Junction signing with two secrets verifies against either in constructEvent", () => {
    const headers = signStripeWebhook({ body, secrets: ["whsec_new", "whsec_old"] });
    assert.equal(stripe.webhooks.constructEvent(body, headers["stripe-signature"], "whsec_new").id, "evt_1");
    assert.equal(stripe.webhooks.constructEvent(body, headers["stripe-signature"], "whsec_old").id, "evt_1");
  });
});

describe("GitHub interop (@octokit/webhooks-methods)", () => {
  test("octokit signs → Junction verifies and returns the delivery id", async () => {
    const secret = "github interop secret";
    const signature = await octokitSign(secret, body);
    const headers = { "X-Hub-Signature-256": signature, "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" };
    assert.deepEqual(verifyGithubWebhook(Buffer.from(body), headers, { secrets: secret }), {
      ok: true,
      keyIndex: 0,
      id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    });
  });

  test("Junction signs → octokit verifies", async () => {
    const secret = "github interop secret";
    const headers = signGithubWebhook({ body, secret, deliveryId: "d-1" });
    assert.equal(await octokitVerify(secret, body, headers["x-hub-signature-256"] as string), true);
    assert.equal(await octokitVerify("another secret", body, headers["x-hub-signature-256"] as string), false);
  });
});
