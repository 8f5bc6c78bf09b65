import { configError } from "../core/errors.js";

/**
 * How the client proves who it is at the token endpoint (RFC 6749 §2.3.1):
 * - `client_secret_basic`: HTTP Basic with the form-encoded id and secret (every server must support it);
 * - `client_secret_post`: `client_id` and `client_secret` in the form body;
 * - `none`: a public client (mobile, desktop, SPA) that has no secret and relies on PKCE.
 */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "none";

export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

/** `application/x-www-form-urlencoded` encoding of one value (space as `+`), as §2.3.1 asks before Base64. */
function formEncode(value: string): string {
  return new URLSearchParams([["", value]]).toString().slice(1);
}

/** The `Authorization` header value for client_secret_basic. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, "utf8").toString("base64")}`;
}

/**
 * Adds the client's authentication to a token request. `client_id` always goes in the body too:
 * public clients need it there, and servers accept it next to Basic credentials.
 */
export function applyClientAuth(method: ClientAuthMethod, client: ClientCredentials, body: URLSearchParams, headers: Record<string, string>): void {
  if (!client.clientId) throw configError("OAuth2 clientId is missing.", { code: "oauth2.missing_client_id" });
  body.set("client_id", client.clientId);
  if (method === "none") return;
  if (!client.clientSecret) {
    throw configError(`OAuth2 authMethod ${method} needs a clientSecret; use authMethod "none" for a public client.`, {
      code: "oauth2.missing_client_secret",
    });
  }
  if (method === "client_secret_basic") headers["authorization"] = basicAuthorization(client.clientId, client.clientSecret);
  else body.set("client_secret", client.clientSecret);
}

/** The method to use when none was given: the provider's habit, Basic when there is a secret, else `none`. */
export function defaultAuthMethod(clientSecret: string | undefined, providerMethod: ClientAuthMethod | undefined): ClientAuthMethod {
  if (!clientSecret) return "none";
  return providerMethod ?? "client_secret_basic";
}
