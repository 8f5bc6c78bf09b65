import type { Dispatcher } from "undici";
import { request } from "undici";
import { abortError } from "../core/abort.js";
import { JunctionError, errorMessage, permanentError, transientError } from "../core/errors.js";
import { SecretRedactor } from "../core/redact.js";
import type { ClientAuthMethod, ClientCredentials } from "./client-auth.js";
import { applyClientAuth, basicAuthorization, defaultAuthMethod } from "./client-auth.js";
import { describeEndpoint, endpointUrl } from "./endpoint-url.js";
import type { OAuth2Provider } from "./providers.js";
import type { TokenRequestFacts } from "./token-error.js";
import { httpStatusError, isTransientStatus, oauthErrorResponse, retryAfterHeaderMs, unreadableResponseError } from "./token-error.js";
import { parseTokenResponseBody } from "./token-response.js";

/** Where and as whom to ask for tokens. */
export interface TokenEndpointOptions extends ClientCredentials {
  /** The token endpoint; or use `provider`. */
  tokenUrl?: string;
  /** A preset from `providers` (its `tokenUrl` and auth method are used unless given). */
  provider?: OAuth2Provider;
  /** Default: the provider's method when a secret is given, `client_secret_basic` without a provider, `none` without a secret. */
  authMethod?: ClientAuthMethod;
}

/** How to send one token request. */
export interface TokenRequestOptions {
  /** Cancels the request; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Fails (transient) when the endpoint has not sent its headers, or goes quiet while sending the body, for this long. Default 30 000 ms. */
  timeoutMs?: number;
  /** An undici dispatcher (Agent, ProxyAgent) for TLS options, a proxy or connection limits. */
  dispatcher?: Dispatcher;
  /** The clock `expiresAt` is computed with, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Token answers are a few hundred bytes; anything this large is not one. */
const MAX_RESPONSE_BYTES = 256 * 1024;

function redactorFor(secrets: ReadonlyArray<string | undefined>, clientId: string, clientSecret: string | undefined): SecretRedactor {
  const redactor = new SecretRedactor();
  for (const secret of secrets) {
    redactor.add(secret);
    if (secret) redactor.add(new URLSearchParams([["", secret]]).toString().slice(1));
  }
  if (clientSecret) redactor.add(basicAuthorization(clientId, clientSecret).slice("Basic ".length));
  return redactor;
}

function networkFailure(error: unknown, facts: TokenRequestFacts, timeoutMs: number, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return abortError(signal);
  const code = (error as { code?: unknown } | null)?.code;
  const context = { endpoint: facts.endpoint, grantType: facts.grantType, ...(typeof code === "string" ? { cause: code } : {}) };
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return transientError(`OAuth2 token endpoint ${facts.endpoint} did not answer within ${timeoutMs} ms; try again later.`, {
      code: "oauth2.timeout",
      context,
      cause: error,
    });
  }
  const reason = typeof code === "string" ? code : facts.redactor.redact(errorMessage(error));
  if (typeof code === "string" && (code.startsWith("UND_ERR_INVALID") || code.startsWith("ERR_INVALID"))) {
    return permanentError(`OAuth2 token request to ${facts.endpoint} could not be sent (${reason}); check the request options.`, {
      code: "oauth2.invalid_request_options",
      context,
      cause: error,
    });
  }
  return transientError(`OAuth2 token endpoint ${facts.endpoint} could not be reached (${reason}); check the URL and the network, then try again.`, {
    code: "oauth2.unreachable",
    context,
    cause: error,
  });
}

async function readLimited(body: AsyncIterable<Buffer>, facts: TokenRequestFacts): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      throw permanentError(`OAuth2 token endpoint ${facts.endpoint} sent more than ${MAX_RESPONSE_BYTES} bytes; check tokenUrl.`, {
        code: "oauth2.response_too_large",
        context: { endpoint: facts.endpoint, grantType: facts.grantType },
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * POSTs one grant to the token endpoint as `application/x-www-form-urlencoded` (RFC 6749 §4.1.3,
 * §6; never JSON) with `Accept: application/json`, and returns the fields of a successful answer.
 * Failures are JunctionErrors: OAuth error answers are `auth` or `permanent` with the server's
 * explanation, 408/425/429/5xx and network failures `transient` (with Retry-After). `secrets`
 * (code, verifier, refresh token) and the client secret are removed from every message.
 */
export async function postTokenRequest(
  endpoint: TokenEndpointOptions,
  grant: Readonly<Record<string, string>>,
  secrets: ReadonlyArray<string | undefined>,
  options: TokenRequestOptions,
): Promise<Record<string, unknown>> {
  const url = endpointUrl(endpoint.tokenUrl ?? endpoint.provider?.tokenUrl, "tokenUrl");
  const grantType = grant["grant_type"] ?? "unknown";
  const facts: TokenRequestFacts = {
    endpoint: describeEndpoint(url),
    grantType,
    redactor: redactorFor([...secrets, endpoint.clientSecret], endpoint.clientId, endpoint.clientSecret),
  };
  const body = new URLSearchParams(grant);
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  const method = endpoint.authMethod ?? defaultAuthMethod(endpoint.clientSecret, endpoint.provider?.authMethod);
  applyClientAuth(method, endpoint, body, headers);

  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let status: number;
  let contentType: string | undefined;
  let retryAfter: string | string[] | undefined;
  let text: string;
  try {
    const response = await request(url, {
      method: "POST",
      headers,
      body: body.toString(),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    status = response.statusCode;
    const type = response.headers["content-type"];
    contentType = Array.isArray(type) ? type[0] : type;
    retryAfter = response.headers["retry-after"];
    text = await readLimited(response.body, facts);
  } catch (error) {
    if (error instanceof JunctionError) throw error;
    throw networkFailure(error, facts, timeoutMs, options.signal);
  }

  const fields = parseTokenResponseBody(text, contentType);
  const retryAfterMs = isTransientStatus(status) ? retryAfterHeaderMs(retryAfter, Date.now()) : undefined;
  if (fields !== undefined && typeof fields["error"] === "string" && fields["error"]) {
    throw oauthErrorResponse(fields, status, facts, retryAfterMs);
  }
  if (status < 200 || status >= 300) throw httpStatusError(status, facts, retryAfterMs);
  if (fields === undefined) throw unreadableResponseError(status, contentType, facts);
  return fields;
}
