import assert from "node:assert/strict";
import crypto from "node:crypto";
import { syncBuiltinESMExports } from "node:module";
import { describe, mock, test } from "node:test";
import {
  constantTimeEqual,
  generateStandardWebhookSecret,
  githubWebhookVerifier,
  signGithubWebhook,
  signStandardWebhook,
  signStripeWebhook,
  standardWebhookVerifier,
  stripeWebhookVerifier,
} from "../../../src/webhooks/signatures/index.js";
import type { VerifyResult } from "../../../src/webhooks/signatures/index.js";

const now = 1_700_000_000_000;
const body = Buffer.from('{"n":1}');

/** Runs `action` with crypto.timingSafeEqual wrapped in a spy, as seen through ESM named imports too. */
function withTimingSafeEqualSpy(action: () => VerifyResult): { result: VerifyResult; calls: Array<[Buffer, Buffer]> } {
  const spy = mock.method(crypto, "timingSafeEqual");
  syncBuiltinESMExports();
  try {
    const result = action();
    return { result, calls: spy.mock.calls.map((call) => call.arguments as unknown as [Buffer, Buffer]) };
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
}

describe("constant-time signature comparison", () => {
  test("constantTimeEqual: equal, different, and different-length inputs never throw", () => {
    assert.equal(constantTimeEqual(Buffer.from("abcd"), Buffer.from("abcd")), true);
    assert.equal(constantTimeEqual(Buffer.from("abcd"), Buffer.from("abce")), false);
    assert.equal(constantTimeEqual(Buffer.from("abcd"), Buffer.from("abc")), false);
    assert.equal(constantTimeEqual(Buffer.from("abcd"), Buffer.alloc(0)), false);
  });

  test("a standard signature of a different length is rejected through timingSafeEqual, without throwing", () => {
    const secret = generateStandardWebhookSecret();
    const headers = signStandardWebhook({ body, id: "msg_ct", now, secrets: secret });
    const truncated = { ...headers, "webhook-signature": headers["webhook-signature"].slice(0, 12) };
    const verifier = standardWebhookVerifier({ secrets: secret });
    const { result, calls } = withTimingSafeEqualSpy(() => verifier.verify(body, truncated, now));
    assert.equal(result.ok, false);
    assert.equal(result.ok ? undefined : result.reason, "bad_signature");
    assert.ok(calls.length >= 1, "the comparison went through crypto.timingSafeEqual");
    for (const [a, b] of calls) assert.equal(a.length, b.length, "timingSafeEqual only ever sees equal-length buffers");
  });

  test("the genuine signature is also accepted through timingSafeEqual (no === shortcut)", () => {
    const secret = generateStandardWebhookSecret();
    const headers = signStandardWebhook({ body, id: "msg_ct2", now, secrets: secret });
    const { result, calls } = withTimingSafeEqualSpy(() => standardWebhookVerifier({ secrets: secret }).verify(body, headers, now));
    assert.equal(result.ok, true);
    assert.ok(calls.length >= 1);
  });

  test("stripe and github verifiers compare through timingSafeEqual too, including overlong signatures", () => {
    const stripeHeader = signStripeWebhook({ body, secrets: "whsec_ct", now })["stripe-signature"];
    const stripe = withTimingSafeEqualSpy(() =>
      stripeWebhookVerifier({ secrets: "whsec_ct" }).verify(body, { "stripe-signature": `${stripeHeader}00` }, now),
    );
    assert.equal(stripe.result.ok ? "ok" : stripe.result.reason, "bad_signature");
    assert.ok(stripe.calls.length >= 1);

    const githubHeader = signGithubWebhook({ body, secret: "ct" })["x-hub-signature-256"] as string;
    const github = withTimingSafeEqualSpy(() => githubWebhookVerifier({ secrets: "ct" }).verify(body, { "x-hub-signature-256": githubHeader.slice(0, -1) }));
    assert.equal(github.result.ok ? "ok" : github.result.reason, "bad_signature");
    assert.ok(github.calls.length >= 1);
    for (const [a, b] of [...stripe.calls, ...github.calls]) assert.equal(a.length, b.length);
  });
});
