import type { Dispatcher } from "undici";
import { abortable } from "../../core/abort.js";
import { JunctionError, transientError } from "../../core/errors.js";
import type { SecretRedactor } from "../../core/redact.js";
import { networkError } from "./http-errors.js";
import type { OAuth2ClientCredentialsConfig } from "./schema.js";

/** A token is refreshed this long before it expires: 10 % of its lifetime, at most 30 s. */
const MAX_REFRESH_SKEW_MS = 30_000;
const REFRESH_SKEW_SHARE = 0.1;
/** Longest token response read. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

interface CachedToken {
  accessToken: string;
  /** When to fetch a new one (before it expires); Infinity when the server gave no lifetime. */
  refreshAt: number;
}

export interface TokenSourceOptions {
  dispatcher: Dispatcher;
  redactor: SecretRedactor;
  /** Limit of one token request. */
  timeoutMs: number;
  /** Aborts the token request in flight when the connection closes. */
  lifetime: AbortSignal;
  now?: () => number;
}

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4): the token request is form-encoded, the token
 * is cached and fetched again shortly before it expires, and only one fetch runs at a time —
 * every caller that needs a token meanwhile waits for the same one.
 */
export class OAuth2TokenSource {
  readonly #config: OAuth2ClientCredentialsConfig;
  readonly #options: TokenSourceOptions;
  readonly #now: () => number;
  #token: CachedToken | undefined;
  #fetching: Promise<CachedToken> | undefined;
  /** Token fetches so far (for health detail and tests). */
  fetches = 0;

  constructor(config: OAuth2ClientCredentialsConfig, options: TokenSourceOptions) {
    this.#config = config;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    options.redactor.add(config.client_secret);
  }

  /** A valid access token; waits for the fetch in flight when there is one. `signal` only stops this caller's wait. */
  async token(signal: AbortSignal): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && this.#now() < cached.refreshAt) return cached.accessToken;
    this.#fetching ??= this.#fetch().finally(() => (this.#fetching = undefined));
    return (await abortable(this.#fetching, signal)).accessToken;
  }

  /** The API rejected `accessToken` (401): the next `token()` fetches a new one, unless another caller already did. */
  invalidate(accessToken: string): void {
    if (this.#token?.accessToken === accessToken) this.#token = undefined;
  }

  async #fetch(): Promise<CachedToken> {
    const config = this.#config;
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    const scope = Array.isArray(config.scope) ? config.scope.join(" ") : config.scope;
    if (scope !== undefined && scope !== "") form.set("scope", scope);
    if (config.audience !== undefined) form.set("audience", config.audience);
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if ((config.auth_method ?? "client_secret_basic") === "client_secret_basic") {
      // RFC 6749 §2.3.1: each part form-encoded before joining with ":".
      const user = `${formEncode(config.client_id)}:${formEncode(config.client_secret)}`;
      headers.authorization = `Basic ${Buffer.from(user).toString("base64")}`;
    } else {
      form.set("client_id", config.client_id);
      form.set("client_secret", config.client_secret);
    }
    const url = new URL(config.token_url);
    const request = `POST ${url.origin}${url.pathname}`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#options.timeoutMs);
    const onClose = (): void => controller.abort();
    this.#options.lifetime.addEventListener("abort", onClose, { once: true });
    this.fetches++;
    const started = this.#now();
    try {
      const response = await this.#options.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers,
        body: form.toString(),
        signal: controller.signal,
      });
      const text = await readLimited(response.body, MAX_TOKEN_RESPONSE_BYTES);
      return this.#accept(response.statusCode, text, request, started);
    } catch (error) {
      if (error instanceof JunctionError) throw error;
      throw networkError(error, `token request ${request}`, this.#options.redactor, timedOut ? this.#options.timeoutMs : undefined);
    } finally {
      clearTimeout(timer);
      this.#options.lifetime.removeEventListener("abort", onClose);
    }
  }

  #accept(status: number, text: string, request: string, started: number): CachedToken {
    const redactor = this.#options.redactor;
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    if (status < 200 || status >= 300) {
      const reason = parsed?.error === undefined ? text.slice(0, 300) : `${String(parsed.error)}${parsed.error_description === undefined ? "" : `: ${String(parsed.error_description)}`}`;
      const message = `token request ${request} answered ${status}: ${redactor.redact(reason)}`;
      if (status === 408 || status === 429 || status >= 500) return throwing(transientError(message, { code: `http.oauth2_${status}` }));
      // 400 invalid_client / invalid_scope / unauthorized_client, 401: the credentials are wrong.
      return throwing(new JunctionError(`${message} (check client_id, client_secret, scope and auth_method)`, { kind: "auth", code: "http.oauth2_rejected" }));
    }
    const accessToken = parsed?.access_token;
    if (typeof accessToken !== "string" || accessToken === "") {
      return throwing(new JunctionError(`token request ${request} answered ${status} without an access_token`, { kind: "auth", code: "http.oauth2_no_token" }));
    }
    const tokenType = parsed?.token_type;
    if (typeof tokenType === "string" && tokenType.toLowerCase() !== "bearer") {
      return throwing(new JunctionError(`token request ${request} gave a "${tokenType}" token; only bearer tokens are supported`, { kind: "config", code: "http.oauth2_token_type" }));
    }
    redactor.add(accessToken);
    const expiresIn = Number(parsed?.expires_in);
    const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : undefined;
    const refreshAt = lifetimeMs === undefined ? Infinity : started + lifetimeMs - Math.min(MAX_REFRESH_SKEW_MS, lifetimeMs * REFRESH_SKEW_SHARE);
    const token = { accessToken, refreshAt };
    this.#token = token;
    return token;
  }
}

function throwing(error: Error): never {
  throw error;
}

/** application/x-www-form-urlencoded encoding of one value (spaces as +). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function readLimited(body: AsyncIterable<Buffer | Uint8Array> & { destroy?(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) {
      body.destroy?.();
      break;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}
