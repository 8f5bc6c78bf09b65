import { JunctionError, isAbortError, permanentError, transientError } from "../../core/errors.js";
import type { ErrorKind } from "../../core/errors.js";
import { parseRetryAfter } from "../../resilience/retry-after.js";
import type { SecretRedactor } from "../../core/redact.js";

/** Statuses worth retrying besides 5xx: request timeout, too early, too many requests. */
const TRANSIENT_STATUSES = new Set([408, 425, 429]);

/** Longest part of an error response body quoted in the error message. */
const QUOTED_BODY_CHARS = 500;

/** What a status means for the engine: undefined for 2xx (written). */
export function statusKind(status: number): ErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (TRANSIENT_STATUSES.has(status) || status >= 500) return "transient";
  // 401: the credentials themselves are refused (after one token refresh): the run stops.
  // 403 may concern one resource only: that message is dead-lettered, the others go on.
  if (status === 401) return "auth";
  return "permanent";
}

export interface FailedResponse {
  status: number;
  /** Value of the Retry-After header, when there was one. */
  retryAfter: string | undefined;
  /** The start of the body as text (already cut to a few KB). */
  bodyText: string;
  /** "POST https://api.example.com/v1/charges" with secrets already removed. */
  request: string;
}

/**
 * The error of a non-2xx response: transient (408, 425, 429, 5xx) with the wait Retry-After
 * asked for, auth (401: credentials rejected, retrying cannot help), or permanent (403 and
 * other 4xx) with the status and the start of the body, secrets redacted.
 */
export function responseError(response: FailedResponse, redactor: SecretRedactor, now: number = Date.now()): JunctionError {
  const kind = statusKind(response.status) ?? "permanent";
  const body = quoteBody(redactor.redact(response.bodyText));
  const context = { status: response.status };
  const message = `${response.request} answered ${response.status}${body}${hint(response.status)}`;
  if (kind === "transient") {
    const retryAfterMs = response.retryAfter === undefined ? undefined : parseRetryAfter(response.retryAfter, now);
    return transientError(message, { code: `http.${response.status}`, context, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  return new JunctionError(message, { kind, code: `http.${response.status}`, context });
}

/**
 * A request that got no response: a timeout, a refused or reset connection, a TLS failure.
 * All transient, except TLS certificate problems (permanent: retrying cannot fix them).
 */
export function networkError(error: unknown, request: string, redactor: SecretRedactor, timedOutAfterMs?: number): JunctionError {
  if (error instanceof JunctionError) return error;
  if (timedOutAfterMs !== undefined) {
    return transientError(`${request} timed out after ${timedOutAfterMs} ms (the request was cancelled)`, { code: "http.timeout", cause: error });
  }
  const code = nodeCode(error);
  const text = redactor.redact(error instanceof Error ? error.message : String(error));
  const detail = code !== undefined && !text.includes(code) ? `${code}: ${text}` : text;
  if (isAbortError(error) || code === "UND_ERR_ABORTED") return transientError(`${request} was cancelled (shutting down)`, { code: "http.aborted", cause: error });
  if (code === "UND_ERR_INVALID_ARG") {
    return permanentError(`${request} could not be sent: ${detail} (check the target's headers and path templates)`, { code: "http.invalid_request", cause: error });
  }
  if (code !== undefined && isCertificateProblem(code)) {
    return permanentError(`${request} failed: TLS: ${detail} (set tls.ca to the CA that signed the server certificate)`, { code: "http.tls", cause: error });
  }
  return transientError(`${request} failed: ${detail}`, { code: code ?? "http.network", cause: error });
}

function nodeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  const causeCode = ((error as { cause?: unknown } | null)?.cause as { code?: unknown } | undefined)?.code;
  return typeof causeCode === "string" ? causeCode : undefined;
}

function isCertificateProblem(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME/.test(code);
}

function quoteBody(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, " ");
  if (trimmed === "") return "";
  return trimmed.length > QUOTED_BODY_CHARS ? `: ${trimmed.slice(0, QUOTED_BODY_CHARS)}…` : `: ${trimmed}`;
}

function hint(status: number): string {
  if (status === 401) return " (the credentials were rejected: check the connection's auth)";
  if (status === 403) return " (the credentials lack permission for this request)";
  if (status === 404) return " (check base_url and the target's path)";
  return "";
}
