import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { durationField, sizeField } from "../shared/config-fields.js";

const BearerAuthSchema = Type.Object(
  {
    type: Type.Literal("bearer", { description: "Authorization: Bearer <token>." }),
    token: Type.String({ minLength: 1, secret: true, description: "The token. Redacted like a password." }),
  },
  { additionalProperties: false, description: "A static bearer token." },
);

const BasicAuthSchema = Type.Object(
  {
    type: Type.Literal("basic", { description: "HTTP Basic authentication (RFC 7617)." }),
    username: Type.String({ description: "User name." }),
    password: Type.String({ secret: true, description: "Password. Redacted." }),
  },
  { additionalProperties: false, description: "HTTP Basic authentication." },
);

const ApiKeyAuthSchema = Type.Object(
  {
    type: Type.Literal("api_key", { description: "An API key in a header or the query string." }),
    in: Type.Optional(Type.Union([Type.Literal("header"), Type.Literal("query")], { description: "header (default) or query.", default: "header" })),
    name: Type.String({ minLength: 1, description: "Header or query parameter name, e.g. X-API-Key or api_key." }),
    value: Type.String({ minLength: 1, secret: true, description: "The key. Redacted, also from URLs in errors and logs." }),
  },
  { additionalProperties: false, description: "An API key sent with every request." },
);

const OAuth2ClientCredentialsSchema = Type.Object(
  {
    type: Type.Literal("oauth2_client_credentials", { description: "OAuth 2.0 client credentials grant (RFC 6749 §4.4)." }),
    token_url: Type.String({ minLength: 1, description: "Token endpoint, e.g. https://auth.example.com/oauth/token." }),
    client_id: Type.String({ minLength: 1, description: "Client id." }),
    client_secret: Type.String({ minLength: 1, secret: true, description: "Client secret. Redacted." }),
    scope: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: "Scopes requested, a space-separated string or a list." })),
    audience: Type.Optional(Type.String({ description: "`audience` parameter some providers (Auth0, …) require." })),
    auth_method: Type.Optional(
      Type.Union([Type.Literal("client_secret_basic"), Type.Literal("client_secret_post")], {
        description: "How the client authenticates at the token endpoint: client_secret_basic (HTTP Basic, default) or client_secret_post (in the form body).",
        default: "client_secret_basic",
      }),
    ),
  },
  { additionalProperties: false, description: "Tokens fetched from a token endpoint, cached and refreshed before they expire." },
);

export const HttpAuthSchema = Type.Union([BearerAuthSchema, BasicAuthSchema, ApiKeyAuthSchema, OAuth2ClientCredentialsSchema], {
  description: "How requests authenticate: `type` bearer, basic, api_key or oauth2_client_credentials.",
});

const TlsSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the CA(s) to trust instead of the system ones (relative to the config file)." })),
    cert: Type.Optional(Type.String({ minLength: 1, description: "PEM file of a client certificate (mutual TLS)." })),
    key: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the client certificate's private key." })),
    reject_unauthorized: Type.Optional(Type.Boolean({ description: "Verify the server certificate. Default true; false only for local testing.", default: true })),
  },
  { additionalProperties: false, description: "TLS options for https:// URLs (also used for the OAuth2 token endpoint)." },
);

const TimeoutSchema = Type.Object(
  {
    connect: Type.Optional(durationField("How long opening a connection (TCP and TLS) may take. Default 10s.", "10s")),
    request: Type.Optional(durationField("How long one request may take, from sending to the end of the response body; the request is cancelled then. Default 30s.", "30s")),
  },
  { additionalProperties: false, description: "Timeouts; each cancels the request (the socket is closed) and fails it as transient." },
);

export const HttpConnectionSchema = Type.Object(
  {
    base_url: Type.String({ minLength: 1, description: "Base URL every path is relative to, e.g. https://api.example.com/v1." }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Headers sent with every request (targets may add or override some)." })),
    timeout: Type.Optional(TimeoutSchema),
    tls: Type.Optional(TlsSchema),
    auth: Type.Optional(HttpAuthSchema),
    health_path: Type.Optional(
      Type.String({ minLength: 1, description: "Path GET by the health check (2xx = healthy). Without it the health check only opens a TCP/TLS connection." }),
    ),
    max_connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: "Most open connections per origin. Default 16.", default: 16 })),
  },
  { additionalProperties: false, description: "An HTTP API: base URL, default headers, timeouts, TLS and authentication." },
);

const ResponseSchema = Type.Object(
  {
    into: Type.String({
      pattern: "^metadata\\.[A-Za-z0-9_$-]+(\\.[A-Za-z0-9_$-]+)*$",
      description: 'Where the response goes in the message, "metadata.<key>" (e.g. metadata.response): { status, headers, body }.',
    }),
    headers: Type.Optional(Type.Array(Type.String({ minLength: 1, description: "A header name." }), { description: "Response headers kept (lower-cased names). Default none." })),
    body: Type.Optional(Type.Boolean({ description: "Keep the body: parsed JSON, else text. Default true.", default: true })),
    max_body: Type.Optional(sizeField("Largest body kept; a larger one is left out (body_truncated: true). Default 1mb.", "1mb")),
  },
  { additionalProperties: false, description: "Maps the response back into the message for later steps." },
);

const IdempotencyKeySchema = Type.Object(
  {
    header: Type.Optional(Type.String({ minLength: 1, description: "Header name. Default Idempotency-Key.", default: "Idempotency-Key" })),
    value: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Template of the key, with `{{ JSONata }}` parts (e.g. `order-{{ order_id }}`). Default: a UUID derived from the integration and the message id.",
      }),
    ),
  },
  { additionalProperties: false, description: "Idempotency key options." },
);

export const HttpSinkSchema = Type.Object(
  {
    method: Type.Optional(
      Type.Union([Type.Literal("POST"), Type.Literal("PUT"), Type.Literal("PATCH"), Type.Literal("DELETE"), Type.Literal("GET")], {
        description: "HTTP method. Default POST.",
        default: "POST",
      }),
    ),
    path: Type.Optional(
      Type.String({
        description: "Path after base_url, with `{{ JSONata }}` parts per message, e.g. `/orders/{{ $encodeUrlComponent(id) }}`. Default: base_url itself.",
      }),
    ),
    query: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Query parameters, values with `{{ JSONata }}` parts (URL-encoded for you)." })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Extra headers per request, values with `{{ JSONata }}` parts." })),
    body: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "JSONata expression over the payload (`$message` holds id, key, headers, metadata, correlation_id) whose result is sent as JSON (a string result as text). Default: the payload as JSON; GET and DELETE send no body.",
      }),
    ),
    idempotency_key: Type.Optional(
      Type.Union([Type.Boolean(), IdempotencyKeySchema], {
        description: "Idempotency-Key header, the same on every retry of a message. Default true; false turns it off; an object sets header and value.",
      }),
    ),
    response: Type.Optional(ResponseSchema),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: "Requests in flight at once within one write. Default 8.", default: 8 })),
  },
  { additionalProperties: false, description: "Send one request per message; each message succeeds or fails on its own." },
);

const NoPaginationSchema = Type.Object(
  { type: Type.Literal("none", { description: "One request per poll." }) },
  { additionalProperties: false, description: "No pagination: the first response holds every record." },
);

const NextLinkPaginationSchema = Type.Object(
  {
    type: Type.Literal("next_link", { description: "The body holds the URL of the next page." }),
    next: Type.String({ minLength: 1, description: "JSONata into the response body giving the next page's URL, absolute or relative (e.g. `links.next`); missing, null or empty ends the poll." }),
  },
  { additionalProperties: false, description: "Follow a next-page URL found in the body." },
);

const LinkHeaderPaginationSchema = Type.Object(
  {
    type: Type.Literal("link_header", { description: "RFC 8288 `Link` response header (GitHub and many others)." }),
    rel: Type.Optional(Type.String({ minLength: 1, description: "Relation type of the next page's link. Default next.", default: "next" })),
  },
  { additionalProperties: false, description: 'Follow the `Link: <…>; rel="next"` response header; no such link ends the poll.' },
);

const CursorPaginationSchema = Type.Object(
  {
    type: Type.Literal("cursor", { description: "The body holds an opaque cursor for the next page." }),
    cursor: Type.String({ minLength: 1, description: "JSONata into the response body giving the next cursor (e.g. `meta.next_cursor`); missing, null, empty or false ends the poll." }),
    param: Type.String({ minLength: 1, description: "Query parameter the cursor is sent in, e.g. starting_after or cursor." }),
  },
  { additionalProperties: false, description: "Send the cursor of the previous response as a query parameter." },
);

const OffsetPaginationSchema = Type.Object(
  {
    type: Type.Literal("offset", { description: "offset/limit query parameters." }),
    param: Type.Optional(Type.String({ minLength: 1, description: "Query parameter of the offset. Default offset.", default: "offset" })),
    limit_param: Type.Optional(Type.String({ minLength: 1, description: "Query parameter of the page size. Default limit.", default: "limit" })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: "Records asked per page; no larger than the API's own maximum (a shorter page ends the poll). Default 100.", default: 100 }),
    ),
  },
  { additionalProperties: false, description: "Offset pagination: the offset grows by the records received; a page shorter than limit ends the poll." },
);

const PageNumberPaginationSchema = Type.Object(
  {
    type: Type.Literal("page", { description: "Page-number query parameter." }),
    param: Type.Optional(Type.String({ minLength: 1, description: "Query parameter of the page number. Default page.", default: "page" })),
    start: Type.Optional(Type.Integer({ minimum: 0, description: "Number of the first page. Default 1.", default: 1 })),
    size_param: Type.Optional(Type.String({ minLength: 1, description: "Query parameter of the page size, e.g. per_page. Default: none sent." })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: "Records per page: sent in size_param, and a shorter page ends the poll. Without it only an empty page ends it." })),
  },
  { additionalProperties: false, description: "Page-number pagination: an empty page (or one shorter than size) ends the poll." },
);

export const HttpPaginationSchema = Type.Union(
  [NoPaginationSchema, NextLinkPaginationSchema, LinkHeaderPaginationSchema, CursorPaginationSchema, OffsetPaginationSchema, PageNumberPaginationSchema],
  { description: "How the pages of one poll are walked: `type` none (default), next_link, link_header, cursor, offset or page." },
);

const WatermarkSchema = Type.Object(
  {
    field: Type.String({ minLength: 1, description: "JSONata into a record giving the value that grows when it changes, e.g. updated_at (ISO-8601 timestamps and numbers compare by value)." }),
    param: Type.Optional(
      Type.String({ minLength: 1, description: "Query parameter sent with the checkpointed watermark (the API should return records with a value >= it), e.g. updated_since. Left out while there is none." }),
    ),
    initial: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: "Watermark of the very first poll (no checkpoint yet), e.g. 2024-01-01T00:00:00Z. Default: none, all records." })),
    sorted: Type.Optional(
      Type.Boolean({
        description:
          "true when the API returns records in ascending watermark order: the checkpoint then advances after every page. false (default): it advances once a poll has read its last page.",
        default: false,
      }),
    ),
  },
  { additionalProperties: false, description: "Incremental polling: only records at or after the last watermark written are delivered; checkpointed." },
);

const SourceRetrySchema = Type.Object(
  {
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "Tries of one page request, the first included. Default 3.", default: 3 })),
    base_delay: Type.Optional(durationField("Backoff before the first retry (exponential, full jitter). Default 500ms.", "500ms")),
    max_delay: Type.Optional(durationField("Longest backoff between tries (a longer Retry-After is still honoured). Default 30s.", "30s")),
  },
  { additionalProperties: false, description: "Retries of a page request that failed transiently (408, 425, 429, 5xx, network), waiting at least Retry-After." },
);

export const HttpSourceSchema = Type.Object(
  {
    method: Type.Optional(Type.Union([Type.Literal("GET"), Type.Literal("POST")], { description: "HTTP method. Default GET; POST sends `body`.", default: "GET" })),
    path: Type.Optional(Type.String({ description: "Path after base_url, with `{{ JSONata }}` parts over `{ watermark }`, e.g. `/orders`. Default: base_url itself." })),
    query: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: "Query parameters of the first page, values with `{{ JSONata }}` parts over `{ watermark }`, e.g. updated_since: \"{{ watermark }}\"." }),
    ),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Extra headers on every page request, values with `{{ JSONata }}` parts over `{ watermark }`." })),
    body: Type.Optional(
      Type.String({
        minLength: 1,
        description: "POST only: JSONata over `{ watermark, pagination }` (pagination: the pagination query parameters of this page) whose result is sent as JSON.",
      }),
    ),
    records: Type.Optional(
      Type.String({ minLength: 1, description: "JSONata into the response body giving the array of records, e.g. `data` or `result.items`. Default: the body, which must then be an array." }),
    ),
    id: Type.Optional(
      Type.String({ minLength: 1, description: "JSONata into a record giving the message id (stable across polls, so targets can deduplicate). Default: its `id` field, else a SHA-256 of the record." }),
    ),
    pagination: Type.Optional(HttpPaginationSchema),
    max_pages: Type.Optional(
      Type.Integer({ minimum: 1, description: "Most pages one poll reads (a guard against an API that never stops paging). Default 10000.", default: 10_000 }),
    ),
    watermark: Type.Optional(WatermarkSchema),
    interval: Type.Optional(durationField("Pause between polls with a continuous trigger. Default 30s.", "30s")),
    retry: Type.Optional(SourceRetrySchema),
    max_body: Type.Optional(sizeField("Largest response body read; a larger page fails the poll. Default 16mb.", "16mb")),
  },
  { additionalProperties: false, description: "Poll an API: walk its pages, deliver every record as a message, and with a watermark only what changed since the last poll." },
);

export type HttpConnectionConfig = Static<typeof HttpConnectionSchema>;
export type HttpAuthConfig = Static<typeof HttpAuthSchema>;
export type OAuth2ClientCredentialsConfig = Static<typeof OAuth2ClientCredentialsSchema>;
export type HttpSinkOptions = Static<typeof HttpSinkSchema>;
export type HttpResponseOptions = Static<typeof ResponseSchema>;
export type HttpSourceOptions = Static<typeof HttpSourceSchema>;
export type HttpPaginationOptions = Static<typeof HttpPaginationSchema>;
export type HttpWatermarkOptions = Static<typeof WatermarkSchema>;
export type HttpSourceRetryOptions = Static<typeof SourceRetrySchema>;
