import { Agent } from "undici";
import type { Dispatcher } from "undici";
import { parseRetryAfter } from "../../resilience/retry-after.js";
import { signStandardWebhook } from "../signatures/standard-sign.js";
import type { AddressPolicy } from "./address-policy.js";
import { checkLiteralHost, guardedLookup } from "./guarded-lookup.js";

/** Code of the error the address guard raises. */
const ADDRESS_REFUSED = "webhooks.address_refused";

/** Bytes of a response body kept in the delivery log. */
export const LOGGED_RESPONSE_BYTES = 1024;

export const WEBHOOK_USER_AGENT = "Junction";

export interface WebhookRequest {
  url: URL;
  /** The JSON body, sent and signed exactly as is. */
  body: string;
  /** `webhook-id`: the same on every attempt of a delivery. */
  eventId: string;
  /** Signing keys: one signature per key. */
  secrets: readonly string[];
  /** Extra headers from config (lower-case names). */
  headers: Readonly<Record<string, string>>;
}

export interface AttemptResult {
  startedAt: Date;
  latencyMs: number;
  /** Absent when no answer came. */
  status?: number;
  /** The start of the answer's body (at most LOGGED_RESPONSE_BYTES). */
  responseBody?: string;
  /** How long the endpoint asked to be left alone (Retry-After). */
  retryAfterMs?: number;
  /** Why no answer came (network error, timeout, refused address); safe to log: no URL path or query. */
  error?: string;
  /** The address guard refused the endpoint's address: a configuration problem. */
  refused: boolean;
  /** Cancelled by shutdown before an answer came: not an attempt worth recording. */
  aborted: boolean;
}

export interface WebhookSenderOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  /** Connections kept per origin. Default 8. */
  connectionsPerOrigin?: number;
}

/**
 * Sends one signed delivery attempt. The connection goes only to addresses the policy
 * allows: names are resolved through the guarded lookup (the socket connects to the very
 * address checked), literal IP hosts are checked before connecting. Redirects are not
 * followed. Each attempt runs under its own timeout, which cancels the request; the
 * caller's signal (shutdown) cancels it too.
 */
export class WebhookSender {
  readonly #policy: AddressPolicy;
  readonly #timeoutMs: number;
  readonly #agent: Agent;

  constructor(options: WebhookSenderOptions) {
    this.#policy = options.policy;
    this.#timeoutMs = options.timeoutMs;
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin ?? 8,
      // Our own per-attempt timer is the limit; undici's must not cut in first.
      headersTimeout: options.timeoutMs + 1000,
      bodyTimeout: options.timeoutMs + 1000,
      connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.policy) },
    });
  }

  async send(request: WebhookRequest, signal: AbortSignal): Promise<AttemptResult> {
    const startedAt = new Date();
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 1000) / 1000;
    const where = `POST ${request.url.origin}`;
    try {
      checkLiteralHost(request.url, this.#policy);
    } catch (error) {
      return { startedAt, latencyMs: elapsed(), error: (error as Error).message, refused: true, aborted: false };
    }
    const signature = signStandardWebhook({ body: request.body, id: request.eventId, now: startedAt.getTime(), secrets: [...request.secrets] });
    const headers = { ...request.headers, ...signature, "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT };

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const onAbort = (): void => controller.abort();
    if (signal.aborted) controller.abort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await this.#agent.request({
        origin: request.url.origin,
        path: `${request.url.pathname}${request.url.search}`,
        method: "POST",
        headers,
        body: request.body,
        signal: controller.signal,
      });
      const responseBody = await readStart(response.body, LOGGED_RESPONSE_BYTES);
      const retryAfter = firstHeader(response.headers["retry-after"]);
      const retryAfterMs = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter);
      return {
        startedAt,
        latencyMs: elapsed(),
        status: response.statusCode,
        responseBody,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        refused: false,
        aborted: false,
      };
    } catch (error) {
      const latencyMs = elapsed();
      if (timedOut) return { startedAt, latencyMs, error: `${where} timed out after ${this.#timeoutMs} ms`, refused: false, aborted: false };
      if (signal.aborted) return { startedAt, latencyMs, error: `${where} was cancelled (shutting down)`, refused: false, aborted: true };
      const refusal = findRefusal(error);
      if (refusal !== undefined) return { startedAt, latencyMs, error: refusal, refused: true, aborted: false };
      return { startedAt, latencyMs, error: `${where} failed: ${describeNetworkError(error)}`, refused: false, aborted: false };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close().catch(() => undefined);
  }
}

/** The start of a body as text; the rest is not read (the socket is closed instead of drained). */
async function readStart(body: Dispatcher.ResponseData["body"], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The message of the address guard's error, wherever undici put it in the cause chain. */
function findRefusal(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === "object" && depth < 5; depth += 1) {
    if ((current as { code?: unknown }).code === ADDRESS_REFUSED) return (current as Error).message;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  return typeof code === "string" && !text.includes(code) ? `${code}: ${text}` : text;
}
