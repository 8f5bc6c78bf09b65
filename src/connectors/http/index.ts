import jsonata from "jsonata";
import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { HttpClient } from "./http-client.js";
import { checkHealth } from "./health.js";
import { HttpConnectionSchema, HttpSinkSchema, HttpSourceSchema } from "./schema.js";
import type { HttpConnectionConfig, HttpSinkOptions } from "./schema.js";
import { createHttpCaller } from "./caller.js";
import { createHttpSink } from "./sink.js";
import { checkSource } from "./source-checks.js";
import { createHttpSource } from "./source.js";

const EXAMPLE = `# connections:
payments:
  type: http
  base_url: https://api.payments.example/v1
  headers: { accept: application/json }
  timeout: { connect: 5s, request: 20s }
  health_path: /health            # GET, 2xx = healthy (default: just connect)
  auth:
    type: oauth2_client_credentials   # or bearer, basic, api_key
    token_url: https://auth.payments.example/oauth/token
    client_id: \${PAYMENTS_CLIENT_ID}
    client_secret: \${PAYMENTS_CLIENT_SECRET}
    scope: charges:write
  # tls: { ca: ./ca.pem, cert: ./client.pem, key: ./client-key.pem }
  resilience: { retry: { attempts: 5, base_delay: 500ms, max_delay: 30s } }

# integrations.<name>.source — poll an API, page by page, incrementally:
#   source:
#     connection: payments
#     path: /charges
#     query: { limit: "100" }
#     records: data                  # JSONata to the array of records in the body
#     pagination: { type: cursor, cursor: "has_more ? data[-1].id", param: starting_after }
#     watermark: { field: updated_at, param: updated_since, initial: "2024-01-01T00:00:00Z" }
#     interval: 1m                   # between polls with a continuous trigger

# integrations.<name>.target — one request per message:
#   target:
#     connection: payments
#     method: POST
#     path: "/customers/{{ $encodeUrlComponent(customer_id) }}/charges"
#     body: "{ 'amount': amount_cents, 'currency': 'eur', 'reference': order_id }"
#     idempotency_key: true          # Idempotency-Key header, the same on every retry
#     response: { into: metadata.response, headers: [location] }
#     concurrency: 8
`;

export const httpConnector = {
  type: "http",
  summary:
    "HTTP API (undici), bearer/basic/api_key/OAuth2 auth. Source: polling with pagination (next link, Link header, cursor, offset, page) and a checkpointed watermark. Target: one request per message, Idempotency-Key stable across retries.",
  config: HttpConnectionSchema,
  source: HttpSourceSchema,
  sink: HttpSinkSchema,
  callable: true,
  example: EXAMPLE,
  check: { config: checkConfig, source: checkSource, sink: checkSink },
  async connect(config, ctx) {
    const client = await HttpClient.open(config, ctx.baseDir);
    return {
      health: (signal: AbortSignal) => checkHealth(client, config.health_path, signal),
      source: (options, sourceCtx) => createHttpSource(client, options, sourceCtx, ctx.resilience?.retry),
      sink: (options, sinkCtx) => createHttpSink(client, options, sinkCtx),
      caller: (options, callCtx) => createHttpCaller(client, options, callCtx.integration, ctx.resilience?.retry, callCtx.logger),
      close: () => client.close(),
    };
  },
} satisfies ConnectorSpec<typeof HttpConnectionSchema, typeof HttpSourceSchema, typeof HttpSinkSchema>;

function checkConfig(config: HttpConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const base = parseUrl(config.base_url);
  if (base === undefined || (base.protocol !== "http:" && base.protocol !== "https:")) {
    issues.push({ path: ["base_url"], message: 'expected an http:// or https:// URL, e.g. "https://api.example.com/v1"' });
  } else if (base.username !== "" || base.password !== "") {
    issues.push({ path: ["base_url"], message: "put credentials under `auth` (type: basic), not in the URL" });
  }
  if (config.auth?.type === "oauth2_client_credentials") {
    const token = parseUrl(config.auth.token_url);
    if (token === undefined || (token.protocol !== "http:" && token.protocol !== "https:")) {
      issues.push({ path: ["auth", "token_url"], message: 'expected an http:// or https:// URL, e.g. "https://auth.example.com/oauth/token"' });
    }
  }
  if ((config.tls?.cert === undefined) !== (config.tls?.key === undefined)) {
    issues.push({ path: ["tls"], message: "a client certificate needs both `cert` and `key`" });
  }
  return issues;
}

function checkSink(options: HttpSinkOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.path !== undefined) issues.push(...templateIssues(options.path, ["path"]));
  for (const [name, value] of Object.entries(options.query ?? {})) issues.push(...templateIssues(value, ["query", name]));
  for (const [name, value] of Object.entries(options.headers ?? {})) issues.push(...templateIssues(value, ["headers", name]));
  if (typeof options.idempotency_key === "object" && options.idempotency_key.value !== undefined) issues.push(...templateIssues(options.idempotency_key.value, ["idempotency_key", "value"]));
  if (options.body !== undefined) {
    try {
      jsonata(options.body);
    } catch (error) {
      issues.push({ path: ["body"], message: `invalid JSONata: ${(error as Error).message}` });
    }
  }
  return issues;
}

function templateIssues(template: string, path: string[]): ConfigIssue[] {
  const problem = MessageTemplate.problem(template);
  return problem === undefined ? [] : [{ path, message: problem }];
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
