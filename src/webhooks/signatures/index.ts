export type {
  ClockOption,
  HeaderSource,
  SecretList,
  VerifierType,
  VerifyFailure,
  VerifyFailureReason,
  VerifyResult,
  VerifySuccess,
  WebhookVerifier,
} from "./types.js";
export { constantTimeEqual } from "./constant-time.js";
export { DEFAULT_TOLERANCE_SECONDS } from "./timestamp-window.js";
export {
  STANDARD_PUBLIC_KEY_PREFIX,
  STANDARD_SECRET_KEY_PREFIX,
  STANDARD_SECRET_PREFIX,
  generateStandardWebhookKeyPair,
  generateStandardWebhookSecret,
} from "./standard-keys.js";
export { STANDARD_WEBHOOK_HEADERS, standardWebhookVerifier, verifyStandardWebhook } from "./standard.js";
export type { StandardVerifierOptions } from "./standard.js";
export { signStandardWebhook } from "./standard-sign.js";
export type { StandardSignInput, StandardWebhookHeaders } from "./standard-sign.js";
export { STRIPE_SIGNATURE_HEADER, signStripeWebhook, stripeWebhookVerifier, verifyStripeWebhook } from "./stripe.js";
export type { StripeVerifierOptions } from "./stripe.js";
export { GITHUB_DELIVERY_HEADER, GITHUB_SIGNATURE_HEADER, githubWebhookVerifier, signGithubWebhook, verifyGithubWebhook } from "./github.js";
export type { GithubVerifierOptions } from "./github.js";
export { hmacWebhookVerifier, signHmacWebhook, verifyHmacWebhook } from "./hmac.js";
export type { HmacAlgorithm, HmacSchemeOptions, HmacVerifierOptions, SignatureEncoding } from "./hmac.js";
export { webhookVerifier } from "./verifier.js";
export type { WebhookVerifierConfig } from "./verifier.js";
