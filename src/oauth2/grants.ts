import { configError } from "../core/errors.js";
import { isValidCodeVerifier } from "./pkce.js";
import type { TokenEndpointOptions, TokenRequestOptions } from "./token-request.js";
import { postTokenRequest } from "./token-request.js";
import type { TokenSet } from "./token-set.js";
import { tokenSetFromResponse } from "./token-set.js";

export interface ExchangeCodeOptions extends TokenEndpointOptions, TokenRequestOptions {
  /** The `code` query parameter of the redirect (after `verifyState` accepted its `state`). */
  code: string;
  /** The same redirectUri as in the authorization request. */
  redirectUri: string;
  /** The `codeVerifier` that `authorizationUrl` returned for this authorization. */
  codeVerifier: string;
}

export interface RefreshTokenOptions extends TokenEndpointOptions, TokenRequestOptions {
  refreshToken: string;
  /** Ask for fewer scopes than were granted (RFC 6749 §6); leave out to keep them. */
  scope?: string | readonly string[];
}

export interface ClientCredentialsOptions extends TokenEndpointOptions, TokenRequestOptions {
  scope?: string | readonly string[];
  /** Further form fields some servers want, e.g. `{ audience: "https://api.example.com" }`. */
  extraParams?: Readonly<Record<string, string>>;
}

function scopeText(scope: string | readonly string[] | undefined): string | undefined {
  const text = typeof scope === "string" ? scope : scope?.join(" ");
  return text ? text : undefined;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw configError(`OAuth2 ${name} is missing.`, { code: `oauth2.missing_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}` });
  return value;
}

/**
 * Exchanges the authorization code of a redirect for tokens (RFC 6749 §4.1.3 with the PKCE
 * `code_verifier` of RFC 7636 §4.5). A code works once: a second exchange fails with `invalid_grant`.
 */
export async function exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet> {
  const code = required(options.code, "code");
  const redirectUri = required(options.redirectUri, "redirectUri");
  if (!isValidCodeVerifier(options.codeVerifier ?? "")) {
    throw configError("OAuth2 codeVerifier is missing or malformed: pass the codeVerifier that authorizationUrl returned for this authorization.", {
      code: "oauth2.invalid_code_verifier",
    });
  }
  const now = options.now ?? Date.now;
  const fields = await postTokenRequest(
    options,
    { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: options.codeVerifier },
    [code, options.codeVerifier],
    options,
  );
  return tokenSetFromResponse(fields, now());
}

/**
 * Gets a new access token with a refresh token (RFC 6749 §6). When the server rotates refresh
 * tokens the result carries the new one, otherwise the one passed in: store `result.refreshToken`.
 */
export async function refreshToken(options: RefreshTokenOptions): Promise<TokenSet> {
  const token = required(options.refreshToken, "refreshToken");
  const scope = scopeText(options.scope);
  const now = options.now ?? Date.now;
  const fields = await postTokenRequest(options, { grant_type: "refresh_token", refresh_token: token, ...(scope ? { scope } : {}) }, [token], options);
  return tokenSetFromResponse(fields, now(), token);
}

/** Gets a token for the client itself, with no user involved (RFC 6749 §4.4): service-to-service APIs. */
export async function clientCredentialsToken(options: ClientCredentialsOptions): Promise<TokenSet> {
  required(options.clientSecret, "clientSecret");
  const scope = scopeText(options.scope);
  const now = options.now ?? Date.now;
  const grant: Record<string, string> = { ...options.extraParams, grant_type: "client_credentials", ...(scope ? { scope } : {}) };
  const fields = await postTokenRequest(options, grant, [], options);
  return tokenSetFromResponse(fields, now());
}
