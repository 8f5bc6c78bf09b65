import { createServer } from "node:http";
import { correlationIdFrom } from "../../observability/tracing.js";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { configError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { formatUrlHost } from "./listen-address.js";
import type { ListenAddress } from "./listen-address.js";
import { PendingRequests } from "./pending-requests.js";
import type { HttpResponseSpec, PendingRequest } from "./pending-requests.js";

/** Request headers that carry credentials: never copied into messages. */
const DROPPED_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);
const RETRY_LATER = { "retry-after": "1" };
const CLOSE_GRACE_MS = 2000;

export interface Route {
  path: string;
  requests: PendingRequests;
  /** Set when the source stopped: new requests get 503. */
  closed: boolean;
}

/** The HTTP listener of one http_server connection; each source registers one path on it. */
export class HttpListener {
  readonly #server: Server;
  readonly #maxBody: number;
  readonly #logger: Logger;
  readonly #routes = new Map<string, Route>();
  /** Requests whose response is still owed (queued or pulled as a batch). */
  readonly #unanswered = new Set<PendingRequest>();
  #address: AddressInfo | undefined;
  #closing: Promise<void> | undefined;

  private constructor(maxBody: number, logger: Logger) {
    this.#maxBody = maxBody;
    this.#logger = logger;
    this.#server = createServer((request, response) => this.#handle(request, response));
  }

  static async start(address: ListenAddress, maxBody: number, logger: Logger): Promise<HttpListener> {
    const listener = new HttpListener(maxBody, logger);
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => {
        reject(
          configError(`cannot listen on ${formatUrlHost(address.host)}:${address.port}: ${error.message}; choose another listen address or stop what holds it`, {
            code: "http_server.listen_failed",
            cause: error,
          }),
        );
      };
      listener.#server.once("error", onError);
      listener.#server.listen(address.port, address.host, () => {
        listener.#server.off("error", onError);
        resolve();
      });
    });
    listener.#address = listener.#server.address() as AddressInfo;
    listener.#server.on("error", (error) => logger.error({ err: error }, "http_server listener error"));
    return listener;
  }

  get listening(): boolean {
    return this.#server.listening && this.#closing === undefined;
  }

  /** "http://host:port" actually bound (the real port when 0 was configured). */
  get url(): string | undefined {
    return this.#address === undefined ? undefined : `http://${formatUrlHost(this.#address.address)}:${this.#address.port}`;
  }

  /** Requests received and not answered yet, over every path. */
  get pending(): number {
    let total = 0;
    for (const route of this.#routes.values()) total += route.requests.inFlight;
    return total;
  }

  addRoute(path: string, maxPending: number): Route {
    if (this.#routes.has(path)) throw configError(`http_server: two sources use path ${path}; give each its own path`, { code: "config.http_server_path" });
    const route: Route = { path, requests: new PendingRequests(maxPending), closed: false };
    this.#routes.set(path, route);
    return route;
  }

  removeRoute(route: Route): void {
    route.closed = true;
    route.requests.rejectQueued({ status: 503, body: { error: "the source stopped; retry later" }, headers: RETRY_LATER });
    if (this.#routes.get(route.path) === route) this.#routes.delete(route.path);
  }

  /** Answers everything still waiting with 503 and stops listening. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const shuttingDown: HttpResponseSpec = { status: 503, body: { error: "shutting down; retry later" }, headers: RETRY_LATER };
    for (const route of this.#routes.values()) {
      route.closed = true;
      route.requests.rejectQueued(shuttingDown);
    }
    for (const request of [...this.#unanswered]) request.respond(shuttingDown);
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.#server.closeAllConnections(), CLOSE_GRACE_MS);
      this.#server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = pathOf(request.url);
    const route = this.#routes.get(path);
    if (route === undefined) return send(response, { status: 404, body: { error: `nothing accepts requests at ${path}` } });
    if (request.method !== "POST") return send(response, { status: 405, body: { error: `use POST to send messages to ${path}` }, headers: { allow: "POST" } });
    if (!isJsonContentType(request.headers["content-type"])) {
      return send(response, { status: 415, body: { error: "send the body as JSON with content-type: application/json" } });
    }
    if (route.closed || this.#closing !== undefined) return send(response, { status: 503, body: { error: "shutting down; retry later" }, headers: RETRY_LATER });
    if (!route.requests.reserve()) {
      return send(response, { status: 503, body: { error: `too many requests waiting (max_pending ${route.requests.capacity}); retry later` }, headers: RETRY_LATER });
    }
    let released = false;
    response.on("close", () => {
      if (released) return;
      released = true;
      route.requests.release();
    });
    const tooLarge: HttpResponseSpec = {
      status: 413,
      body: { error: `body larger than max_body (${this.#maxBody} bytes); send smaller requests or raise max_body` },
      headers: { connection: "close" },
    };
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > this.#maxBody) return send(response, tooLarge);

    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    request.on("data", (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > this.#maxBody) {
        rejected = true;
        chunks.length = 0;
        send(response, tooLarge);
        return;
      }
      chunks.push(chunk);
    });
    request.on("error", () => undefined);
    request.on("end", () => {
      if (rejected || response.writableEnded) return;
      this.#accept(route, request, response, Buffer.concat(chunks, size));
    });
  }

  #accept(route: Route, request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (error) {
      return send(response, { status: 400, body: { error: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` } });
    }
    if (parsed === null || typeof parsed !== "object") {
      return send(response, { status: 400, body: { error: "the body must be a JSON object (one message) or an array (one message per item)" } });
    }
    const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    if (items.length === 0) return send(response, { status: 200, body: { accepted: 0 } });

    const messages = toMessages(items, Array.isArray(parsed), request, route.path);
    let answered = false;
    const pending: PendingRequest = {
      messages,
      respond: (spec) => {
        if (answered) return;
        answered = true;
        this.#unanswered.delete(pending);
        send(response, spec);
      },
    };
    response.on("close", () => {
      if (answered) return;
      // The client went away: drop the request if no batch took it yet; a batch already pulled is still processed.
      answered = true;
      this.#unanswered.delete(pending);
      if (route.requests.remove(pending)) this.#logger.debug({ path: route.path }, "client disconnected before its request was processed");
    });
    this.#unanswered.add(pending);
    route.requests.push(pending);
  }
}

function toMessages(items: unknown[], isArray: boolean, request: IncomingMessage, path: string): Message[] {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  const requestId = randomUUID();
  // x-correlation-id, else the trace id of a W3C traceparent, else this request's id.
  const correlationId = correlationIdFrom(headers) ?? requestId;
  // A client-supplied idempotency key makes ids stable across the client's retries.
  const base = headers["idempotency-key"] ? headers["idempotency-key"] : `http:${requestId}`;
  const remoteAddress = request.socket.remoteAddress;
  return items.map((payload, index) => {
    const id = isArray ? `${base}:${index}` : base;
    return {
      id,
      payload,
      headers: { ...headers },
      metadata: { path, method: "POST", remote_address: remoteAddress, request_id: requestId, index },
      correlationId,
      attempt: 1,
    };
  });
}

function send(response: ServerResponse, spec: HttpResponseSpec): void {
  if (response.headersSent || response.destroyed) return;
  const body = JSON.stringify(spec.body);
  response.writeHead(spec.status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body), ...spec.headers });
  response.end(body);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const media = (value.split(";")[0] as string).trim().toLowerCase();
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}
