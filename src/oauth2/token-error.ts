import type { ErrorKind } from "../core/errors.js";
import { JunctionError, permanentError, transientError } from "../core/errors.js";
import type { SecretRedactor } from "../core/redact.js";

/** What the error builders need to know about the request that failed. */
export interface TokenRequestFacts {
  endpoint: string;
  grantType: string;
  /** Knows the client secret, code, verifier and tokens of this request. */
  redactor: SecretRedactor;
}

const AUTH_ERRORS = new Set([
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "access_denied",
  // GitHub's own codes
  "incorrect_client_credentials",
  "bad_verification_code",
  "bad_refresh_token",
]);
const TRANSIENT_ERRORS = new Set(["temporarily_unavailable", "server_error", "slow_down"]);

function oauthErrorKind(error: string): ErrorKind {
  if (AUTH_ERRORS.has(error)) return "auth";
  if (TRANSIENT_ERRORS.has(error)) return "transient";
  return "permanent";
}

function hint(error: string, grantType: string): string {
  if (error === "invalid_grant" || error === "bad_verification_code" || error === "bad_refresh_token") {
    return grantType === "refresh_token"
      ? "The refresh token is invalid, expired or revoked: the user must authorize again."
      : grantType === "authorization_code"
        ? "The code is invalid, expired or already used, or redirect_uri / code_verifier differ from the authorization request: start the authorization again."
        : "The grant was refused: check the credentials of this grant.";
  }
  if (error === "invalid_client" || error === "incorrect_client_credentials" || error === "unauthorized_client") {
    return "Check clientId, clientSecret and authMethod (client_secret_basic or client_secret_post) against the app's registration.";
  }
  if (error === "redirect_uri_mismatch") return "Use the redirectUri of the authorization request, exactly as registered for the app.";
  if (error === "invalid_scope") return "Ask only for scopes this client may request.";
  if (error === "unsupported_grant_type") return "This server does not allow this grant type for the client.";
  if (TRANSIENT_ERRORS.has(error)) return "Try again later.";
  return "";
}

/** Printable ASCII only (RFC 6749 §5.2 allows nothing else), shortened, with the request's secrets removed. */
function clean(text: string, max: number, redactor: SecretRedactor): string {
  const printable = text.replace(/[^\x20-\x7e]/g, " ").trim();
  return redactor.redact(printable.length > max ? `${printable.slice(0, max)}…` : printable);
}

/** The error for an OAuth error response (`error`, `error_description`), whatever the HTTP status. */
export function oauthErrorResponse(fields: Record<string, unknown>, status: number, facts: TokenRequestFacts, retryAfterMs?: number): JunctionError {
  const error = clean(String(fields["error"]), 64, facts.redactor);
  const rawDescription = fields["error_description"];
  const description = typeof rawDescription === "string" ? clean(rawDescription, 300, facts.redactor) : "";
  const kind: ErrorKind = status >= 500 || status === 429 ? "transient" : oauthErrorKind(error);
  const advice = hint(error, facts.grantType);
  const message =
    `OAuth2 ${facts.grantType} request was rejected by ${facts.endpoint}: ${error}` + (description ? ` (${description})` : "") + "." + (advice ? ` ${advice}` : "");
  return new JunctionError(message, {
    kind,
    code: `oauth2.${error.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`,
    context: { endpoint: facts.endpoint, grantType: facts.grantType, status, error },
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** 408, 425, 429 and 5xx are worth retrying; every other failing status is not. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** The error for a failing status without an OAuth error body (the body is not quoted: it may echo what we sent). */
export function httpStatusError(status: number, facts: TokenRequestFacts, retryAfterMs?: number): JunctionError {
  const context = { endpoint: facts.endpoint, grantType: facts.grantType, status };
  if (isTransientStatus(status)) {
    return transientError(`OAuth2 token endpoint ${facts.endpoint} answered HTTP ${status}; try again later.`, {
      code: "oauth2.unavailable",
      context,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (status === 401 || status === 403) {
    return new JunctionError(
      `OAuth2 token endpoint ${facts.endpoint} refused the client (HTTP ${status}). Check clientId, clientSecret and authMethod (client_secret_basic or client_secret_post).`,
      { kind: "auth", code: "oauth2.client_refused", context },
    );
  }
  return permanentError(`OAuth2 token endpoint ${facts.endpoint} answered HTTP ${status}; check tokenUrl and the request parameters.`, {
    code: "oauth2.http_error",
    context,
  });
}

/** The error for a 2xx answer that is neither JSON nor form-encoded. */
export function unreadableResponseError(status: number, contentType: string | undefined, facts: TokenRequestFacts): JunctionError {
  return permanentError(
    `OAuth2 token endpoint ${facts.endpoint} answered HTTP ${status} with a body that is neither JSON nor form-encoded (${contentType ?? "no content type"}); check tokenUrl.`,
    { code: "oauth2.unreadable_response", context: { endpoint: facts.endpoint, grantType: facts.grantType, status } },
  );
}

/** Milliseconds asked for by a Retry-After header (seconds or an HTTP-date), if any. */
export function retryAfterHeaderMs(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
