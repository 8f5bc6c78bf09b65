import { githubWebhookVerifier } from "./github.js";
import type { GithubVerifierOptions } from "./github.js";
import { hmacWebhookVerifier } from "./hmac.js";
import type { HmacVerifierOptions } from "./hmac.js";
import { standardWebhookVerifier } from "./standard.js";
import type { StandardVerifierOptions } from "./standard.js";
import { stripeWebhookVerifier } from "./stripe.js";
import type { StripeVerifierOptions } from "./stripe.js";
import type { WebhookVerifier } from "./types.js";

export type WebhookVerifierConfig =
  | ({ type: "standard" } & StandardVerifierOptions)
  | ({ type: "stripe" } & StripeVerifierOptions)
  | ({ type: "github" } & GithubVerifierOptions)
  | ({ type: "hmac" } & HmacVerifierOptions);

/** Builds the verifier named by `type`, parsing secrets and options once (throws a config error when they are invalid). */
export function webhookVerifier(config: WebhookVerifierConfig): WebhookVerifier {
  switch (config.type) {
    case "standard":
      return standardWebhookVerifier(config);
    case "stripe":
      return stripeWebhookVerifier(config);
    case "github":
      return githubWebhookVerifier(config);
    case "hmac":
      return hmacWebhookVerifier(config);
  }
}
