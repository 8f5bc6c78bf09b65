import assert from "node:assert/strict";
import { test } from "node:test";
import * as junction from "../../../src/index.js";

test("the library exports the webhook signature verifiers and signers", () => {
  for (const name of [
    "webhookVerifier",
    "standardWebhookVerifier",
    "verifyStandardWebhook",
    "signStandardWebhook",
    "generateStandardWebhookSecret",
    "generateStandardWebhookKeyPair",
    "stripeWebhookVerifier",
    "verifyStripeWebhook",
    "signStripeWebhook",
    "githubWebhookVerifier",
    "verifyGithubWebhook",
    "signGithubWebhook",
    "hmacWebhookVerifier",
    "verifyHmacWebhook",
    "signHmacWebhook",
    "constantTimeEqual",
  ]) {
    assert.equal(typeof (junction as Record<string, unknown>)[name], "function", `${name} is exported`);
  }
});
