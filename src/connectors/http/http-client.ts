import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { Agent } from "undici";
import type { Dispatcher } from "undici";
import { SecretRedactor } from "../../core/redact.js";
import { durationMs } from "../shared/config-fields.js";
import { networkError } from "./http-errors.js";
import { OAuth2TokenSource } from "./oauth2-token-source.js";
import type { HttpConnectionConfig } from "./schema.js";

/** Stands in for the api key in a URL until it is shown (URLSearchParams would escape "[redacted]"). */
const REDACTED_PLACEHOLDER = "__junction_redacted__";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

export interface OutgoingRequest {
  method: HttpMethod;
  /** Relative to base_url; may carry its own query string. */
  path: string;
  query?: ReadonlyArray<readonly [string, string]>;
  /** Lower-case names. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Most body bytes to keep; the rest is discarded (`bodyTruncated`). */
  maxBody: number;
}

export interface ReceivedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  bodyTruncated: boolean;
  /** The request as it may appear in errors and logs: no credentials, the api key redacted. */
  request: string;
}

export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/**
 * One HTTP API: an undici Agent (a connection pool per origin, TLS options applied to each),
 * the base URL, default headers and authentication. Every request runs under its own timeout,
 * which — like the caller's abort signal — cancels it (undici closes the socket); the timer
 * is cleared whatever happens. With OAuth2, a 401 fetches a new token once and sends the
 * request again.
 */
export class HttpClient {
  readonly baseUrl: URL;
  readonly redactor = new SecretRedactor();
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly tls: TlsMaterial;
  readonly #dispatcher: Agent;
  readonly #config: HttpConnectionConfig;
  readonly #defaultHeaders: Record<string, string>;
  readonly #tokens: OAuth2TokenSource | undefined;
  readonly #lifetime = new AbortController();

  private constructor(config: HttpConnectionConfig, tls: TlsMaterial) {
    this.#config = config;
    this.baseUrl = new URL(config.base_url);
    this.tls = tls;
    this.connectTimeoutMs = durationMs(config.timeout?.connect, 10_000);
    this.requestTimeoutMs = durationMs(config.timeout?.request, 30_000);
    this.#defaultHeaders = lowerCaseKeys(config.headers ?? {});
    this.#dispatcher = new Agent({
      connections: config.max_connections ?? 16,
      // Our own per-request timer is the limit; undici's must not cut in first.
      headersTimeout: this.requestTimeoutMs + 1000,
      bodyTimeout: this.requestTimeoutMs + 1000,
      connect: {
        timeout: this.connectTimeoutMs,
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
      },
    });
    const auth = config.auth;
    if (auth?.type === "bearer") this.redactor.add(auth.token);
    if (auth?.type === "basic") this.redactor.add(auth.password);
    if (auth?.type === "api_key") this.redactor.add(auth.value);
    this.#tokens =
      auth?.type === "oauth2_client_credentials"
        ? new OAuth2TokenSource(auth, { dispatcher: this.#dispatcher, redactor: this.redactor, timeoutMs: this.requestTimeoutMs, lifetime: this.#lifetime.signal })
        : undefined;
  }

  /** Reads the TLS files (relative to `baseDir`) and builds the client. */
  static async open(config: HttpConnectionConfig, baseDir: string): Promise<HttpClient> {
    const read = async (file: string | undefined): Promise<Buffer | undefined> => (file === undefined ? undefined : readFile(isAbsolute(file) ? file : resolve(baseDir, file)));
    const tls: TlsMaterial = {
      rejectUnauthorized: config.tls?.reject_unauthorized ?? true,
      ...(config.tls?.ca === undefined ? {} : { ca: await read(config.tls.ca) }),
      ...(config.tls?.cert === undefined ? {} : { cert: await read(config.tls.cert) }),
      ...(config.tls?.key === undefined ? {} : { key: await read(config.tls.key) }),
    };
    return new HttpClient(config, tls);
  }

  /** The OAuth2 token source, when the connection uses client credentials. */
  get tokens(): OAuth2TokenSource | undefined {
    return this.#tokens;
  }

  async send(request: OutgoingRequest, signal: AbortSignal): Promise<ReceivedResponse> {
    const token = await this.#tokens?.token(signal);
    const response = await this.#sendOnce(request, token, signal);
    if (response.status !== 401 || this.#tokens === undefined || token === undefined) return response;
    // The token was revoked or expired early: one new token, one more try.
    this.#tokens.invalidate(token);
    return this.#sendOnce(request, await this.#tokens.token(signal), signal);
  }

  /** The full URL of a request (with the api key, if it travels in the query). */
  url(request: Pick<OutgoingRequest, "path" | "query">): URL {
    const base = this.baseUrl;
    const url = new URL(base.href);
    const [pathPart, queryPart] = splitOnce(request.path, "?");
    if (pathPart !== "") url.pathname = `${base.pathname.replace(/\/+$/, "")}/${pathPart.replace(/^\/+/, "")}`;
    if (queryPart !== undefined) for (const [name, value] of new URLSearchParams(queryPart)) url.searchParams.append(name, value);
    for (const [name, value] of request.query ?? []) url.searchParams.append(name, value);
    const auth = this.#config.auth;
    if (auth?.type === "api_key" && auth.in === "query") url.searchParams.set(auth.name, auth.value);
    return url;
  }

  /** "METHOD url" fit for errors and logs: the api key and every known secret replaced. */
  describe(method: string, url: URL): string {
    const shown = new URL(url.href);
    shown.username = "";
    shown.password = "";
    const auth = this.#config.auth;
    if (auth?.type === "api_key" && auth.in === "query" && shown.searchParams.has(auth.name)) shown.searchParams.set(auth.name, REDACTED_PLACEHOLDER);
    return this.redactor.redact(`${method} ${shown.href.replace(REDACTED_PLACEHOLDER, "[redacted]")}`);
  }

  async close(): Promise<void> {
    this.#lifetime.abort();
    await this.#dispatcher.close().catch(() => undefined);
  }

  async #sendOnce(request: OutgoingRequest, token: string | undefined, signal: AbortSignal): Promise<ReceivedResponse> {
    const url = this.url(request);
    const described = this.describe(request.method, url);
    const headers = { ...this.#defaultHeaders, ...request.headers, ...this.#authHeaders(token) };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.requestTimeoutMs);
    const onAbort = (): void => controller.abort();
    if (signal.aborted) controller.abort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      const response = await this.#dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        body: request.body ?? null,
        signal: controller.signal,
      });
      const { body, truncated } = await readBody(response.body, request.maxBody);
      return { status: response.statusCode, headers: response.headers, body, bodyTruncated: truncated, request: described };
    } catch (error) {
      throw networkError(error, described, this.redactor, timedOut ? this.requestTimeoutMs : undefined);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  #authHeaders(token: string | undefined): Record<string, string> {
    const auth = this.#config.auth;
    if (token !== undefined) return { authorization: `Bearer ${token}` };
    if (auth?.type === "bearer") return { authorization: `Bearer ${auth.token}` };
    if (auth?.type === "basic") return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
    if (auth?.type === "api_key" && (auth.in ?? "header") === "header") return { [auth.name.toLowerCase()]: auth.value };
    return {};
  }
}

/** Reads up to `limit` bytes and discards the rest (so the connection can be reused). */
async function readBody(body: Dispatcher.ResponseData["body"], limit: number): Promise<{ body: Buffer; truncated: boolean }> {
  if (limit <= 0) {
    await body.dump();
    return { body: Buffer.alloc(0), truncated: false };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (truncated) continue;
    if (size + chunk.byteLength > limit) {
      chunks.push(chunk.subarray(0, limit - size));
      size = limit;
      truncated = true;
      continue;
    }
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  return { body: Buffer.concat(chunks), truncated };
}

export function lowerCaseKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
