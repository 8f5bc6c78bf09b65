import type { Logger } from "pino";
import { JunctionError, errorMessage, permanentError } from "../../core/errors.js";
import type { RetryConfig } from "../../config/model.js";
import type { RetryPolicy } from "../../resilience/retry.js";
import { httpRetryPolicy } from "./retry-policy.js";
import type { HttpClient, HttpMethod } from "./http-client.js";
import { responseError, statusKind } from "./http-errors.js";
import type { HttpSourceRetryOptions } from "./schema.js";

/** Bytes of an error response quoted in the error. */
const ERROR_BODY_BYTES = 4096;

/** One page request, relative to base_url (see HttpClient.url). */
export interface PageRequest {
  method: HttpMethod;
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: string;
}

export interface FetchedBody {
  /** The full URL requested. */
  url: URL;
  /** The URL as it may be shown: credentials and the api key redacted. */
  shownUrl: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Sends a page request and parses its JSON body. A transient failure (408, 425, 429, 5xx,
 * network, timeout) is tried again up to `retry.attempts` times with exponential backoff and
 * full jitter, never sooner than Retry-After; what is left fails the run as transient and
 * the engine restarts it from the checkpoint. 401 is an auth error, other 4xx permanent.
 */
export class PageFetcher {
  readonly #client: HttpClient;
  readonly #retry: RetryPolicy;
  readonly #maxBody: number;

  /** `retry`: the source's own option; else the connection's `resilience.retry`; else 3 attempts from 500 ms. */
  constructor(client: HttpClient, retry: HttpSourceRetryOptions | undefined, connectionRetry: RetryConfig | undefined, maxBody: number, logger: Logger) {
    this.#client = client;
    this.#maxBody = maxBody;
    this.#retry = httpRetryPolicy(retry, connectionRetry);
    this.#retry.onRetry.on((event) => {
      logger.warn({ attempt: event.attempt, delay_ms: Math.round(event.delayMs), error: errorMessage(event.error) }, `page request failed; trying again in ${Math.round(event.delayMs)}ms`);
    });
  }

  fetch(request: PageRequest, signal: AbortSignal): Promise<FetchedBody> {
    return this.#retry.execute(({ signal: attemptSignal }) => this.#fetchOnce(request, attemptSignal), signal);
  }

  async #fetchOnce(request: PageRequest, signal: AbortSignal): Promise<FetchedBody> {
    const url = this.#client.url(request);
    const response = await this.#client.send({ ...request, maxBody: this.#maxBody }, signal);
    const shownUrl = response.request.slice(request.method.length + 1);
    if (statusKind(response.status) !== undefined) {
      const retryAfter = response.headers["retry-after"];
      throw responseError(
        {
          status: response.status,
          retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
          bodyText: response.body.subarray(0, ERROR_BODY_BYTES).toString("utf8"),
          request: response.request,
        },
        this.#client.redactor,
      );
    }
    if (response.bodyTruncated) {
      throw permanentError(`${response.request}: the response is larger than max_body (${this.#maxBody} bytes); raise the source's max_body or ask for smaller pages`, {
        code: "http.page_too_large",
      });
    }
    return { url, shownUrl, body: parseJson(response.body, response.headers["content-type"], response.request, this.#client), headers: response.headers };
  }
}

function parseJson(body: Buffer, contentType: string | string[] | undefined, request: string, client: HttpClient): unknown {
  const text = body.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const type = Array.isArray(contentType) ? contentType[0] : contentType;
    const start = client.redactor.redact(text.slice(0, 200).replace(/\s+/g, " ").trim());
    throw new JunctionError(`${request} answered ${type ?? "no content type"} that is not JSON${start === "" ? " (empty body)" : `: ${start}`}; the source reads JSON APIs`, {
      kind: "permanent",
      code: "http.not_json",
      cause: error,
    });
  }
}
