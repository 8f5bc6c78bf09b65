import jsonata from "jsonata";
import { permanentError } from "../../core/errors.js";
import { findLink, parseLinkHeader } from "./pagination-link-header.js";
import type { HttpPaginationOptions } from "./schema.js";

/** A page as pagination sees it. */
export interface FetchedPage {
  /** The URL requested (relative links resolve against it). */
  url: URL;
  /** The parsed JSON body. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Records in the page, before any watermark filtering. */
  count: number;
}

/** The next page: query parameters to send with the poll's request, or a URL given by the API. */
export type NextPage = { params: [string, string][] } | { link: URL };

/**
 * Walks the pages of one poll. Its state (a cursor, an offset) lives only as long as the
 * poll: API cursors expire, so the durable position is the watermark, never a page.
 */
export interface Paginator {
  /** Pagination query parameters of the first page. */
  first(): [string, string][];
  /** The page after `page`, or undefined when it was the last. */
  next(page: FetchedPage): Promise<NextPage | undefined>;
}

export function createPaginator(options: HttpPaginationOptions | undefined): Paginator {
  switch (options?.type ?? "none") {
    case "none":
      return { first: () => [], next: async () => undefined };
    case "next_link":
      return nextLinkPaginator((options as Extract<HttpPaginationOptions, { type: "next_link" }>).next);
    case "link_header":
      return linkHeaderPaginator((options as Extract<HttpPaginationOptions, { type: "link_header" }>).rel ?? "next");
    case "cursor": {
      const cursor = options as Extract<HttpPaginationOptions, { type: "cursor" }>;
      return cursorPaginator(cursor.cursor, cursor.param);
    }
    case "offset":
      return offsetPaginator(options as Extract<HttpPaginationOptions, { type: "offset" }>);
    case "page":
      return pageNumberPaginator(options as Extract<HttpPaginationOptions, { type: "page" }>);
  }
}

function nextLinkPaginator(next: string): Paginator {
  const expression = jsonata(next);
  return {
    first: () => [],
    async next(page) {
      const value = await evaluate(expression, page.body, `pagination.next (${next})`);
      if (value === undefined || value === null || value === "" || value === false) return undefined;
      if (typeof value !== "string") throw permanentError(`pagination.next (${next}) gave ${JSON.stringify(value)}; it must give the next page's URL as a string`, { code: "http.pagination" });
      try {
        return { link: new URL(value, page.url) };
      } catch {
        throw permanentError(`pagination.next (${next}) gave "${value}", which is not a URL`, { code: "http.pagination" });
      }
    },
  };
}

function linkHeaderPaginator(rel: string): Paginator {
  return {
    first: () => [],
    async next(page) {
      const link = findLink(parseLinkHeader(page.headers.link), rel, page.url);
      return link === undefined ? undefined : { link };
    },
  };
}

function cursorPaginator(cursor: string, param: string): Paginator {
  const expression = jsonata(cursor);
  return {
    first: () => [],
    async next(page) {
      const value = await evaluate(expression, page.body, `pagination.cursor (${cursor})`);
      if (value === undefined || value === null || value === "" || value === false) return undefined;
      if (typeof value !== "string" && typeof value !== "number") {
        throw permanentError(`pagination.cursor (${cursor}) gave ${JSON.stringify(value)}; it must give a string or a number`, { code: "http.pagination" });
      }
      return { params: [[param, String(value)]] };
    },
  };
}

function offsetPaginator(options: Extract<HttpPaginationOptions, { type: "offset" }>): Paginator {
  const param = options.param ?? "offset";
  const limitParam = options.limit_param ?? "limit";
  const limit = options.limit ?? 100;
  let offset = 0;
  const params = (): [string, string][] => [
    [param, String(offset)],
    [limitParam, String(limit)],
  ];
  return {
    first() {
      offset = 0;
      return params();
    },
    async next(page) {
      // A short page is the last; the offset moves by what came, in case the API gave fewer than asked.
      if (page.count === 0 || page.count < limit) return undefined;
      offset += page.count;
      return { params: params() };
    },
  };
}

function pageNumberPaginator(options: Extract<HttpPaginationOptions, { type: "page" }>): Paginator {
  const param = options.param ?? "page";
  const start = options.start ?? 1;
  let number = start;
  const params = (): [string, string][] => {
    const out: [string, string][] = [[param, String(number)]];
    if (options.size_param !== undefined && options.size !== undefined) out.push([options.size_param, String(options.size)]);
    return out;
  };
  return {
    first() {
      number = start;
      return params();
    },
    async next(page) {
      if (page.count === 0 || (options.size !== undefined && page.count < options.size)) return undefined;
      number += 1;
      return { params: params() };
    },
  };
}

async function evaluate(expression: jsonata.Expression, body: unknown, what: string): Promise<unknown> {
  try {
    return (await expression.evaluate(body)) as unknown;
  } catch (error) {
    throw permanentError(`${what} failed on the response: ${(error as Error).message}`, { code: "http.pagination", cause: error });
  }
}
