import { configError } from "../core/errors.js";
import { endpointUrl } from "./endpoint-url.js";
import { codeChallengeS256, createCodeVerifier } from "./pkce.js";
import type { OAuth2Provider } from "./providers.js";
import { createState } from "./state.js";

export interface AuthorizationUrlOptions {
  /** The authorization endpoint; or use `provider`. */
  authorizeUrl?: string;
  /** A preset from `providers` (its `authorizeUrl` is used unless `authorizeUrl` is given). */
  provider?: OAuth2Provider;
  clientId: string;
  redirectUri: string;
  /** Scopes, as one space-separated string or a list. */
  scope?: string | readonly string[];
  /** Your own `state` value; by default a fresh 256-bit random one. */
  state?: string;
  /** Further query parameters, e.g. `{ access_type: "offline" }` for Google. */
  extraParams?: Readonly<Record<string, string>>;
}

export interface AuthorizationRequest {
  /** Where to send the user's browser. */
  url: string;
  /** Keep it in the user's session; check the redirect's `state` with `verifyState`. */
  state: string;
  /** Keep it in the user's session (never in the URL or a cookie readable by scripts); pass it to `exchangeCode`. */
  codeVerifier: string;
}

/** Parameters that carry the protection of the flow: `extraParams` may not replace them. */
const PROTECTED_PARAMS = new Set(["response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"]);

/**
 * Builds the URL of an authorization-code request with `state` and PKCE (S256) always included.
 * Store `state` and `codeVerifier` server-side for the user's session until the redirect comes back.
 */
export function authorizationUrl(options: AuthorizationUrlOptions): AuthorizationRequest {
  const url = endpointUrl(options.authorizeUrl ?? options.provider?.authorizeUrl, "authorizeUrl");
  if (!options.clientId) throw configError("OAuth2 clientId is missing.", { code: "oauth2.missing_client_id" });
  if (!options.redirectUri) throw configError("OAuth2 redirectUri is missing.", { code: "oauth2.missing_redirect_uri" });
  if (options.state !== undefined && options.state.length === 0) {
    throw configError("OAuth2 state must not be empty; leave it out to get a random one.", { code: "oauth2.empty_state" });
  }
  for (const name of Object.keys(options.extraParams ?? {})) {
    if (PROTECTED_PARAMS.has(name)) {
      throw configError(`OAuth2 extraParams may not set "${name}": it is set by authorizationUrl itself.`, { code: "oauth2.protected_param" });
    }
  }

  const state = options.state ?? createState();
  const codeVerifier = createCodeVerifier();
  const params = url.searchParams;
  params.set("response_type", "code");
  params.set("client_id", options.clientId);
  params.set("redirect_uri", options.redirectUri);
  const scope = typeof options.scope === "string" ? options.scope : options.scope?.join(" ");
  if (scope) params.set("scope", scope);
  params.set("state", state);
  params.set("code_challenge", codeChallengeS256(codeVerifier));
  params.set("code_challenge_method", "S256");
  for (const [name, value] of Object.entries(options.extraParams ?? {})) params.set(name, value);
  return { url: url.toString(), state, codeVerifier };
}
