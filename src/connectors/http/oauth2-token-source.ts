import type { Dispatcher } from "undici";
import { JunctionError } from "../../core/errors.js";
import type { SecretRedactor } from "../../core/redact.js";
import { clientCredentialsToken } from "../../oauth2/grants.js";
import { RefreshingToken } from "../../oauth2/refreshing-token.js";
import type { TokenSet } from "../../oauth2/token-set.js";
import type { OAuth2ClientCredentialsConfig } from "./schema.js";

/** A token is fetched again this long before it expires (half its lifetime when it lives less than a minute). */
const REFRESH_SKEW_MS = 30_000;

export interface TokenSourceOptions {
  /** The connection's agent: the token request uses its TLS settings. */
  dispatcher: Dispatcher;
  redactor: SecretRedactor;
  /** Limit of one token request. */
  timeoutMs: number;
  /** Aborts the token request in flight when the connection closes. */
  lifetime: AbortSignal;
  now?: () => number;
}

/**
 * The connection's OAuth 2.0 client credentials (RFC 6749 §4.4) through the library's grant
 * (form-encoded, client_secret_basic or client_secret_post) and RefreshingToken (cached,
 * fetched again before it expires, one fetch at a time however many requests wait for it).
 */
export class OAuth2TokenSource {
  readonly #token: RefreshingToken;
  readonly #redactor: SecretRedactor;
  /** Token fetches so far (for health detail and tests). */
  fetches = 0;

  constructor(config: OAuth2ClientCredentialsConfig, options: TokenSourceOptions) {
    this.#redactor = options.redactor;
    options.redactor.add(config.client_secret);
    const now = options.now ?? Date.now;
    this.#token = new RefreshingToken({
      skewMs: REFRESH_SKEW_MS,
      now,
      fetch: async (_current, signal) => {
        this.fetches++;
        const token = await clientCredentialsToken({
          tokenUrl: config.token_url,
          clientId: config.client_id,
          clientSecret: config.client_secret,
          authMethod: config.auth_method ?? "client_secret_basic",
          ...(config.scope === undefined ? {} : { scope: config.scope }),
          ...(config.audience === undefined ? {} : { extraParams: { audience: config.audience } }),
          dispatcher: options.dispatcher,
          timeoutMs: options.timeoutMs,
          signal,
          now,
        });
        return this.#accept(token, config.token_url);
      },
    });
    options.lifetime.addEventListener("abort", () => this.#token.close(), { once: true });
  }

  /** A valid access token; waits for the fetch in flight when there is one. `signal` only stops this caller's wait. */
  async token(signal: AbortSignal): Promise<string> {
    return (await this.#token.get(signal)).accessToken;
  }

  /** The API rejected `accessToken` (401): the next `token()` fetches a new one, unless another caller already did. */
  invalidate(accessToken: string): void {
    const current = this.#token.current;
    if (current?.accessToken === accessToken) this.#token.invalidate(current);
  }

  #accept(token: TokenSet, tokenUrl: string): TokenSet {
    if (token.tokenType !== "" && token.tokenType.toLowerCase() !== "bearer") {
      const url = new URL(tokenUrl);
      throw new JunctionError(`token request POST ${url.origin}${url.pathname} gave a "${token.tokenType}" token; only bearer tokens are supported`, {
        kind: "config",
        code: "http.oauth2_token_type",
      });
    }
    this.#redactor.add(token.accessToken);
    if (token.refreshToken !== undefined) this.#redactor.add(token.refreshToken);
    return token;
  }
}
