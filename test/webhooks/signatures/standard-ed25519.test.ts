import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { JunctionError } from "../../../src/core/errors.js";
import {
  generateStandardWebhookKeyPair,
  generateStandardWebhookSecret,
  signStandardWebhook,
  standardWebhookVerifier,
} from "../../../src/webhooks/signatures/index.js";

const now = 1_700_000_000_000;
const body = Buffer.from('{"type":"contact.created","data":{"id":"c_1"}}');

describe("Standard Webhooks v1a (ed25519)", () => {
  test("signs the spec library's known-answer vector exactly", () => {
    // Seed and expected signature from the Standard Webhooks Go library's asymmetric signing test.
    const headers = signStandardWebhook({
      body: '{"test": 2432232314}',
      id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
      now: 1614265330_000,
      secrets: "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=",
    });
    assert.equal(headers["webhook-signature"], "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==");
    assert.equal(headers["webhook-timestamp"], "1614265330");
  });

  test("a whpk_ public key verifies what the matching whsk_ key signed, and nothing else", () => {
    const pair = generateStandardWebhookKeyPair();
    assert.match(pair.secretKey, /^whsk_/);
    assert.match(pair.publicKey, /^whpk_/);
    const headers = signStandardWebhook({ body, id: "msg_a", now, secrets: pair.secretKey });
    const verifier = standardWebhookVerifier({ secrets: pair.publicKey });
    assert.deepEqual(verifier.verify(body, headers, now), { ok: true, keyIndex: 0, id: "msg_a", timestamp: now / 1000 });
    assert.equal(verifier.verify(Buffer.from(body.toString() + " "), headers, now).ok, false);
  });

  test("mixed v1 and v1a keys: one header carries both signatures, each verifier finds its own", () => {
    const hmacSecret = generateStandardWebhookSecret();
    const pair = generateStandardWebhookKeyPair();
    const headers = signStandardWebhook({ body, id: "msg_b", now, secrets: [hmacSecret, pair.secretKey] });
    assert.match(headers["webhook-signature"], /^v1,\S+ v1a,\S+$/);
    assert.equal(standardWebhookVerifier({ secrets: hmacSecret }).verify(body, headers, now).ok, true);
    assert.equal(standardWebhookVerifier({ secrets: pair.publicKey }).verify(body, headers, now).ok, true);
    const both = standardWebhookVerifier({ secrets: [generateStandardWebhookKeyPair().publicKey, pair.publicKey] });
    assert.deepEqual(both.verify(body, headers, now), { ok: true, keyIndex: 1, id: "msg_b", timestamp: now / 1000 });
  });

  test("keys are checked when the verifier is built; errors never echo the key", () => {
    const bad = "whpk_c2hvcnQ=";
    assert.throws(
      () => standardWebhookVerifier({ secrets: bad }),
      (error: unknown) => error instanceof JunctionError && error.kind === "config" && !error.message.includes(bad),
    );
    assert.throws(() => standardWebhookVerifier({ secrets: [] }), /at least one secret/);
    assert.throws(() => standardWebhookVerifier({ secrets: "whsec_%%%" }), /not valid base64/);
    assert.throws(() => standardWebhookVerifier({ secrets: generateStandardWebhookSecret(), toleranceSeconds: 0 }), /positive/);
    assert.throws(() => signStandardWebhook({ body, secrets: generateStandardWebhookKeyPair().publicKey }), /public key/);
  });

  test("fetch Headers and Node header objects are read case-insensitively", () => {
    const secret = generateStandardWebhookSecret();
    const signed = signStandardWebhook({ body, id: "msg_c", now, secrets: secret });
    const verifier = standardWebhookVerifier({ secrets: secret });
    assert.equal(verifier.verify(body, new Headers(signed), now).ok, true);
    const shouting = { "WEBHOOK-ID": signed["webhook-id"], "Webhook-Timestamp": signed["webhook-timestamp"], "webhook-Signature": [signed["webhook-signature"]] };
    assert.equal(verifier.verify(body, shouting, now).ok, true);
  });
});
