import type { ClientAuthMethod } from "./client-auth.js";

/** The endpoints and habits of one authorization server. */
export interface OAuth2Provider {
  readonly name: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  /** How this server expects the client to authenticate at the token endpoint when a secret is given. */
  readonly authMethod: ClientAuthMethod;
}

/**
 * Presets for well-known authorization servers. Pass one as `provider` instead of the URLs:
 *
 *   authorizationUrl({ provider: providers.github, clientId, redirectUri, scope: ["repo"] })
 */
export const providers = {
  /**
   * GitHub (OAuth apps and GitHub apps). GitHub answers token requests with HTTP 200 even for
   * errors (`bad_verification_code`, …) and answers form-encoded unless asked for JSON; both
   * are handled. Tokens of OAuth apps do not expire (no `expires_in`, no refresh token).
   */
  github: {
    name: "github",
    authorizeUrl: "https://github.com/login/oauth/authorize",
    tokenUrl: "https://github.com/login/oauth/access_token",
    authMethod: "client_secret_post",
  },
  /**
   * Google. Google only returns a refresh token when asked for offline access: pass
   * `extraParams: { access_type: "offline", prompt: "consent" }` to `authorizationUrl`
   * (`prompt: "consent"` makes Google issue a new refresh token on a repeated authorization).
   */
  google: {
    name: "google",
    authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    authMethod: "client_secret_basic",
  },
} as const satisfies Record<string, OAuth2Provider>;
