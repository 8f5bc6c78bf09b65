import { configError } from "../core/errors.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses an authorization or token endpoint URL. OAuth2 sends codes, secrets and tokens to
 * these endpoints, so plain `http:` is accepted only for loopback addresses (local tests and
 * development servers); everything else must be `https:`.
 */
export function endpointUrl(value: string | undefined, what: "authorizeUrl" | "tokenUrl"): URL {
  if (value === undefined || value === "") {
    throw configError(`OAuth2 ${what} is missing: pass ${what} or a provider preset (e.g. providers.github).`, { code: "oauth2.missing_endpoint" });
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`OAuth2 ${what} is not a valid URL; use an absolute https:// URL.`, { code: "oauth2.invalid_endpoint" });
  }
  const insecureLoopback = url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !insecureLoopback) {
    throw configError(`OAuth2 ${what} must use https:// (plain http is only allowed for localhost); got ${url.protocol}//${url.host}.`, {
      code: "oauth2.insecure_endpoint",
    });
  }
  return url;
}

/** The URL without query and fragment, for error context. */
export function describeEndpoint(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
