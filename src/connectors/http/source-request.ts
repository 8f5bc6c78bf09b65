import jsonata from "jsonata";
import { configError } from "../../core/errors.js";
import { createMessage } from "../../core/message.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { HttpMethod } from "./http-client.js";
import type { HttpSourceOptions } from "./schema.js";
import type { PageRequest } from "./source-page-fetcher.js";
import type { WatermarkValue } from "./watermark.js";

/** The parts of a poll's requests that do not change from page to page. */
export interface PollRequest {
  method: HttpMethod;
  path: string;
  /** Query parameters of every parameter-paged request (`query` and the watermark parameter). */
  query: [string, string][];
  headers: Record<string, string>;
}

/**
 * The source's request options: path, query and header templates rendered once per poll over
 * `{ watermark }`, and the POST body expression over `{ watermark, pagination }` per page.
 */
export class SourceRequestTemplate {
  readonly #method: HttpMethod;
  readonly #path: MessageTemplate;
  readonly #query: (readonly [string, MessageTemplate])[];
  readonly #headers: (readonly [string, MessageTemplate])[];
  readonly #body: jsonata.Expression | undefined;
  readonly #watermarkParam: string | undefined;

  constructor(options: HttpSourceOptions) {
    this.#method = options.method ?? "GET";
    this.#path = MessageTemplate.parse(options.path ?? "");
    this.#query = Object.entries(options.query ?? {}).map(([name, value]) => [name, MessageTemplate.parse(value)] as const);
    this.#headers = Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), MessageTemplate.parse(value)] as const);
    this.#body = options.body === undefined ? undefined : jsonata(options.body);
    this.#watermarkParam = options.watermark?.param;
  }

  async poll(watermark: WatermarkValue | undefined): Promise<PollRequest> {
    const context = createMessage({ id: "poll", payload: watermark === undefined ? {} : { watermark } });
    try {
      const query: [string, string][] = [];
      for (const [name, template] of this.#query) query.push([name, await template.render(context)]);
      if (this.#watermarkParam !== undefined && watermark !== undefined) query.push([this.#watermarkParam, String(watermark)]);
      const headers: Record<string, string> = { accept: "application/json" };
      for (const [name, template] of this.#headers) headers[name] = await template.render(context);
      return { method: this.#method, path: await this.#path.render(context), query, headers };
    } catch (error) {
      const hint = watermark === undefined ? " (there is no watermark yet: set watermark.initial for the first poll)" : "";
      throw configError(`http source: ${(error as Error).message}${hint}`, { code: "http.source_template", cause: error });
    }
  }

  /** The request of one page: the poll's parts, the pagination parameters, and the body when there is one. */
  async page(poll: PollRequest, watermark: WatermarkValue | undefined, pagination: [string, string][]): Promise<PageRequest> {
    const request: PageRequest = { method: poll.method, path: poll.path, query: [...poll.query, ...pagination], headers: { ...poll.headers } };
    return this.#withBody(request, watermark, pagination);
  }

  /** The request of a page the API linked to (next_link, link_header): its URL as it is, relative to base_url. */
  async linked(poll: PollRequest, watermark: WatermarkValue | undefined, relative: string): Promise<PageRequest> {
    const request: PageRequest = { method: poll.method, path: relative, query: [], headers: { ...poll.headers } };
    return this.#withBody(request, watermark, []);
  }

  async #withBody(request: PageRequest, watermark: WatermarkValue | undefined, pagination: [string, string][]): Promise<PageRequest> {
    if (this.#body === undefined) return request;
    let value: unknown;
    try {
      value = await this.#body.evaluate({ ...(watermark === undefined ? {} : { watermark }), pagination: Object.fromEntries(pagination) });
    } catch (error) {
      throw configError(`http source: the body expression failed: ${(error as Error).message}`, { code: "http.source_template", cause: error });
    }
    if (value === undefined) return request;
    request.headers["content-type"] ??= "application/json";
    request.body = JSON.stringify(value);
    return request;
  }
}
