import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { hmacWebhookVerifier, signHmacWebhook, verifyHmacWebhook, webhookVerifier } from "../../../src/webhooks/signatures/index.js";
import type { HmacAlgorithm, SignatureEncoding } from "../../../src/webhooks/signatures/index.js";

const now = 1_700_000_000_000;
const body = Buffer.from('{"order":"o-1","total":"12.50"}');

describe("configurable hmac verifier", () => {
  for (const algorithm of ["sha256", "sha512", "sha1"] as HmacAlgorithm[]) {
    for (const encoding of ["hex", "base64"] as SignatureEncoding[]) {
      test(`${algorithm}/${encoding}: matches a hand-computed HMAC over the raw body`, () => {
        const signature = createHmac(algorithm, "shh").update(body).digest(encoding);
        const result = verifyHmacWebhook(body, { "x-sig": signature }, { header: "X-Sig", algorithm, encoding, secrets: "shh" });
        assert.deepEqual(result, { ok: true, keyIndex: 0 });
      });
    }
  }

  test("prefix, timestamp header, id header and a custom signed-content template", () => {
    const options = {
      header: "X-Signature",
      prefix: "sha256=",
      timestampHeader: "X-Timestamp",
      idHeader: "X-Delivery",
      signedContent: "{id}:{timestamp}:{body}",
      secrets: ["new secret", "old secret"],
    };
    const expected = createHmac("sha256", "new secret").update(`d-7:${now / 1000}:`).update(body).digest("hex");
    const headers = signHmacWebhook(options, { body, now, id: "d-7" });
    assert.deepEqual(headers, { "X-Timestamp": String(now / 1000), "X-Delivery": "d-7", "X-Signature": `sha256=${expected}` });
    assert.deepEqual(hmacWebhookVerifier(options).verify(body, headers, now), { ok: true, keyIndex: 0, id: "d-7", timestamp: now / 1000 });
    const withOld = signHmacWebhook({ ...options, secrets: "old secret" }, { body, now, id: "d-7" });
    assert.deepEqual(hmacWebhookVerifier(options).verify(body, withOld, now), { ok: true, keyIndex: 1, id: "d-7", timestamp: now / 1000 });
    const otherId = { ...headers, "X-Delivery": "d-8" };
    assert.equal(hmacWebhookVerifier(options).verify(body, otherId, now).ok, false);
  });

  test("base64-encoded secrets and a custom tolerance", () => {
    const key = Buffer.from("0123456789abcdef0123456789abcdef");
    const options = { header: "X-Sig", encoding: "base64" as const, secretEncoding: "base64" as const, timestampHeader: "X-Ts", toleranceSeconds: 10, secrets: key.toString("base64") };
    const headers = signHmacWebhook(options, { body, now });
    assert.equal(headers["X-Sig"], createHmac("sha256", key).update(`${now / 1000}.`).update(body).digest("base64"));
    assert.equal(hmacWebhookVerifier(options).verify(body, headers, now + 10_000).ok, true);
    const late = hmacWebhookVerifier(options).verify(body, headers, now + 11_000);
    assert.equal(late.ok ? "ok" : late.reason, "stale");
  });

  test("configuration mistakes are config errors raised once, when the verifier is built", () => {
    assert.throws(() => hmacWebhookVerifier({ header: "", secrets: "x" }), /header is required/);
    assert.throws(() => hmacWebhookVerifier({ header: "X-Sig", algorithm: "md5" as HmacAlgorithm, secrets: "x" }), /algorithm must be one of/);
    assert.throws(() => hmacWebhookVerifier({ header: "X-Sig", signedContent: "{timestamp}", secrets: "x" }), /\{body\} exactly once/);
    assert.throws(() => hmacWebhookVerifier({ header: "X-Sig", signedContent: "{timestamp}.{body}", secrets: "x" }), /timestamp_header is not set/);
    assert.throws(() => hmacWebhookVerifier({ header: "X-Sig", secrets: ["x", " "] }), /secret #2 is empty/);
  });

  test("webhookVerifier builds each type from one config shape", () => {
    assert.equal(webhookVerifier({ type: "standard", secrets: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }).type, "standard");
    assert.equal(webhookVerifier({ type: "stripe", secrets: "whsec_x" }).type, "stripe");
    assert.equal(webhookVerifier({ type: "github", secrets: "x" }).type, "github");
    const hmac = webhookVerifier({ type: "hmac", header: "X-Sig", secrets: "shh" });
    assert.deepEqual(hmac.verify(body, { "x-sig": createHmac("sha256", "shh").update(body).digest("hex") }), { ok: true, keyIndex: 0 });
  });
});
