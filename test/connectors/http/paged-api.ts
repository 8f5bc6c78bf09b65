// A local paginated JSON API (a real node:http server on 127.0.0.1, port 0) for the http source
// tests: one collection of records, served sorted by (updated_at, id) and filtered with
// `updated_since` (>=, as most APIs do), under one path per pagination style.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { Value } from "@sinclair/typebox/value";
import { httpConnector } from "../../../src/connectors/http/index.js";
import { HttpSourceSchema } from "../../../src/connectors/http/schema.js";
import type { HttpConnectionConfig, HttpSourceOptions } from "../../../src/connectors/http/schema.js";
import type { Batch, Connection, Source, SourceContext } from "../../../src/connectors/types.js";
import { runtimeContext, sourceContext } from "../connector-context.js";
import type { MemoryCheckpoints } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import type { LocalApi, RecordedRequest } from "./local-api.js";

export interface ApiRecord {
  id: string;
  updated_at: string;
  name?: string;
}

/** Answers a request itself (a failure to inject) when it returns true. */
export type Interceptor = (request: RecordedRequest, url: URL, response: ServerResponse) => boolean;

export interface PagedApi {
  api: LocalApi;
  /** The collection; tests add to it between polls. */
  records: ApiRecord[];
  /** Requests under /v1/items… (not the other paths). */
  pageRequests(): URL[];
  intercept: Interceptor | undefined;
  close(): Promise<void>;
}

export const PAGE_SIZE = 5;

export function recordsFrom(count: number, timestamp: (n: number) => string = (n) => `2024-01-01T00:00:${String(n).padStart(2, "0")}Z`): ApiRecord[] {
  return Array.from({ length: count }, (_, at) => ({ id: `r${String(at + 1).padStart(3, "0")}`, updated_at: timestamp(at + 1), name: `record ${at + 1}` }));
}

/**
 * Paths (under /v1): /items/next_link?page=n → { data, links: { next } } with a relative next
 * link; /items/link_header?page=n → an array with a `Link` header (next, last, prev);
 * /items/cursor?after=<id> → { data, meta: { next_cursor } }; /items/offset?offset=&limit= →
 * { items }; /items/page?page=&per_page= → an array; /items/all → every record at once.
 */
export async function startPagedApi(records: ApiRecord[]): Promise<PagedApi> {
  const state: PagedApi = {
    api: undefined as unknown as LocalApi,
    records,
    pageRequests: () => state.api.requests.map((request) => new URL(request.url, state.api.url)).filter((url) => url.pathname.startsWith("/v1/items")),
    intercept: undefined,
    close: () => state.api.close(),
  };
  state.api = await startLocalApi((request, response) => {
    const url = new URL(request.url, "http://localhost");
    if (state.intercept?.(request, url, response) === true) return;
    const since = url.searchParams.get("updated_since");
    const visible = state.records
      .filter((record) => since === null || Date.parse(record.updated_at) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const query = new URLSearchParams(url.searchParams);
    const pageNumber = Number(url.searchParams.get("page") ?? "1");
    const slice = (from: number, size: number): ApiRecord[] => visible.slice(from, from + size);
    switch (url.pathname) {
      case "/v1/items/next_link": {
        const data = slice((pageNumber - 1) * PAGE_SIZE, PAGE_SIZE);
        query.set("page", String(pageNumber + 1));
        const next = pageNumber * PAGE_SIZE < visible.length ? `next_link?${query.toString()}` : null;
        return json(response, 200, { data, links: { next } });
      }
      case "/v1/items/link_header": {
        const data = slice((pageNumber - 1) * PAGE_SIZE, PAGE_SIZE);
        const links: string[] = [];
        const last = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
        const at = (n: number): string => {
          const copy = new URLSearchParams(query);
          copy.set("page", String(n));
          return `/v1/items/link_header?${copy.toString()}`;
        };
        if (pageNumber > 1) links.push(`<${at(pageNumber - 1)}>; rel="prev"`);
        if (pageNumber < last) links.push(`<${at(pageNumber + 1)}>; rel="next"; title="page, next"`);
        links.push(`<${at(last)}>; rel=last`);
        return json(response, 200, data, { link: links.join(", ") });
      }
      case "/v1/items/cursor": {
        const after = url.searchParams.get("after");
        const from = after === null ? 0 : visible.findIndex((record) => record.id === after) + 1;
        const data = slice(from, PAGE_SIZE);
        const more = from + PAGE_SIZE < visible.length;
        return json(response, 200, { data, meta: { next_cursor: more ? (data[data.length - 1]?.id ?? null) : null } });
      }
      case "/v1/items/offset": {
        const offset = Number(url.searchParams.get("offset") ?? "0");
        const limit = Math.min(PAGE_SIZE, Number(url.searchParams.get("limit") ?? String(PAGE_SIZE)));
        return json(response, 200, { items: slice(offset, limit), total: visible.length });
      }
      case "/v1/items/page": {
        const size = Number(url.searchParams.get("per_page") ?? String(PAGE_SIZE));
        return json(response, 200, slice((pageNumber - 1) * size, size));
      }
      case "/v1/items/all":
        return json(response, 200, visible);
      default:
        return json(response, 404, { error: `no route ${url.pathname}` });
    }
  });
  return state;
}

/** An http connection and a source over it, with the options checked against the schema and the spec's checks first. */
export async function openHttpSource(
  config: HttpConnectionConfig,
  options: HttpSourceOptions,
  context: Partial<SourceContext> = {},
): Promise<{ connection: Connection<HttpSourceOptions, never>; source: Source; ctx: SourceContext & { checkpoints: MemoryCheckpoints } }> {
  assert.ok(Value.Check(HttpSourceSchema, options), JSON.stringify([...Value.Errors(HttpSourceSchema, options)]));
  assert.deepEqual(httpConnector.check.source(options), []);
  const connection = (await httpConnector.connect(config, runtimeContext(process.cwd()))) as Connection<HttpSourceOptions, never>;
  const ctx = sourceContext(context);
  const source = (connection.source as NonNullable<typeof connection.source>)(options, ctx);
  return { connection, source, ctx };
}

/** Ids of the messages of every batch. */
export function idsOf(batches: readonly Batch[]): string[] {
  return batches.flatMap((batch) => batch.messages.map((message) => message.id));
}
