import type { RetryConfig } from "../../config/model.js";
import { pause } from "../../core/abort.js";
import { permanentError } from "../../core/errors.js";
import { createMessage } from "../../core/message.js";
import type { Message } from "../../core/message.js";
import { durationMs, sizeBytes } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { HttpClient } from "./http-client.js";
import { createPaginator } from "./pagination.js";
import { pathUnderBase } from "./pagination-link-target.js";
import type { HttpSourceOptions } from "./schema.js";
import { PageFetcher } from "./source-page-fetcher.js";
import type { PageRequest } from "./source-page-fetcher.js";
import { RecordSelector } from "./source-records.js";
import { SourceRequestTemplate } from "./source-request.js";
import type { PollRequest } from "./source-request.js";
import { PollWatermark, parseCheckpoint } from "./watermark.js";
import type { HttpSourceCheckpoint } from "./watermark.js";

type Position = HttpSourceCheckpoint | undefined;

const DEFAULT_MAX_PAGES = 10_000;

/**
 * Polls an API: each poll walks the pages (pagination) and yields their records as messages,
 * one batch per page (split at the batch size). With a watermark, a poll asks for records at
 * or after the checkpointed watermark and skips those already written at exactly it; the
 * checkpoint moves, on ack only, to the largest watermark written — after every page when the
 * API sorts by it (`sorted`), else once the poll has read its last page. Pagination cursors
 * are never checkpointed (they expire): a restart polls again from the watermark.
 */
export function createHttpSource(client: HttpClient, options: HttpSourceOptions, ctx: SourceContext, connectionRetry?: RetryConfig): Source {
  const logger = ctx.logger.child({ source: "http" });
  const template = new SourceRequestTemplate(options);
  const selector = new RecordSelector({ records: options.records, id: options.id, watermark: options.watermark?.field });
  const fetcher = new PageFetcher(client, options.retry, connectionRetry, sizeBytes(options.max_body, 16 * 1024 * 1024), logger);
  const intervalMs = durationMs(options.interval, 30_000);
  const maxPages = options.max_pages ?? DEFAULT_MAX_PAGES;
  const watermark = options.watermark;
  const sorted = watermark?.sorted ?? false;
  const batchSize = Math.max(1, ctx.batchSize);

  async function loadStart(): Promise<Position> {
    if (watermark === undefined) return undefined;
    const initial: Position = watermark.initial === undefined ? undefined : { field: watermark.field, watermark: watermark.initial, seen: [] };
    const stored = parseCheckpoint(await ctx.checkpoints.get(), watermark.field);
    if (stored === "other") {
      logger.warn({ field: watermark.field }, "http source: the checkpoint was taken with another watermark.field (changed config?); starting from watermark.initial");
      return initial;
    }
    return stored ?? initial;
  }

  /** Where a linked page is, relative to base_url; a permanent error when it lies outside it. */
  function linkedPath(link: URL, method: string): string {
    const relative = pathUnderBase(client.baseUrl, link);
    if (relative !== undefined) return relative;
    throw permanentError(
      `http source: the next page is ${client.describe(method, link)}, which is not under base_url (${client.baseUrl.origin}${client.baseUrl.pathname}); it is not followed: the connection's credentials would go there. If it is the same API, set base_url to its root.`,
      { code: "http.pagination_origin" },
    );
  }

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const paginator = createPaginator(options.pagination);
      const start = await loadStart();
      let stored = JSON.stringify(start ?? null);
      const ledger = new PositionLedger<Position>(start, async (position) => {
        // Pages of an unsorted poll leave the position as it was: nothing to write.
        const text = JSON.stringify(position ?? null);
        if (position === undefined || text === stored) return;
        await ctx.checkpoints.set(position);
        stored = text;
      });

      const batch = (messages: Message[], invalid: Map<Message, Error>, position: Position): Batch => {
        const settle = ledger.advance(position);
        return {
          messages,
          ack: settle.ack,
          nack: async () => settle.nack(),
          ...(position === undefined || watermark === undefined ? {} : { checkpoint: position }),
          ...(invalid.size > 0 ? { invalid } : {}),
        };
      };

      async function* poll(generation: number): AsyncGenerator<Batch> {
        const from = ledger.reading;
        const mark = watermark === undefined ? undefined : new PollWatermark(watermark.field, from);
        const requested = mark?.requested;
        const pollRequest: PollRequest = await template.poll(requested);
        let request: PageRequest = await template.page(pollRequest, requested, paginator.first());
        const requestedPages = new Set<string>();
        let warnedMissing = false;
        let warnedOrder = false;
        for (let number = 1; ; number++) {
          if (signal.aborted || ledger.generation !== generation) return;
          const url = client.url(request);
          const pageKey = `${url.href} ${request.body ?? ""}`;
          if (requestedPages.has(pageKey)) {
            throw permanentError(`http source: pagination loops: page ${number} would request ${client.describe(request.method, url)} again; check the source's pagination`, {
              code: "http.pagination_loop",
            });
          }
          requestedPages.add(pageKey);
          const fetched = await fetcher.fetch(request, signal);
          const records = await selector.select(fetched.body, fetched.shownUrl);
          const next = await paginator.next({ url: fetched.url, body: fetched.body, headers: fetched.headers, count: records.length });

          let messages: Message[] = [];
          let invalid = new Map<Message, Error>();
          for (const record of records) {
            const identity = await selector.identify(record);
            if (mark !== undefined) {
              if (identity.watermark === undefined) {
                if (!warnedMissing) logger.warn({ page: fetched.shownUrl, id: identity.id }, `http source: a record has no watermark (${watermark?.field}); it is delivered on every poll`);
                warnedMissing = true;
              } else if (mark.delivered(identity.watermark, identity.id)) {
                continue;
              } else if (!mark.advance(identity.watermark, identity.id) && sorted && !warnedOrder) {
                warnedOrder = true;
                logger.warn({ page: fetched.shownUrl }, "http source: records are not in ascending watermark order although watermark.sorted is true; set sorted: false");
              }
            }
            const metadata: Record<string, unknown> = { url: fetched.shownUrl, page: number };
            if (identity.watermark !== undefined) metadata.watermark = identity.watermark;
            const message = createMessage({ id: identity.id, payload: record, metadata, ...(identity.named ? { key: identity.id } : {}) });
            messages.push(message);
            if (identity.invalid !== undefined) invalid.set(message, identity.invalid);
            if (messages.length >= batchSize) {
              yield batch(messages, invalid, sorted ? mark?.position() : from);
              messages = [];
              invalid = new Map();
            }
          }
          if (messages.length > 0) yield batch(messages, invalid, sorted ? mark?.position() : from);

          if (next === undefined) break;
          if (number >= maxPages) {
            if (mark !== undefined && sorted) {
              logger.warn({ max_pages: maxPages }, "http source: the poll read max_pages pages; the next poll goes on from the watermark");
              break;
            }
            throw permanentError(
              `http source: the poll read max_pages (${maxPages}) pages and the API still has more; raise max_pages, or let the API sort by the watermark and set watermark.sorted so a poll may stop part-way`,
              { code: "http.max_pages" },
            );
          }
          request = "params" in next ? await template.page(pollRequest, requested, next.params) : await template.linked(pollRequest, requested, linkedPath(next.link, request.method));
        }
        // Unsorted: every record of the poll has been read, so the watermark may move now.
        const end = mark?.position();
        if (!sorted && end !== undefined && JSON.stringify(end) !== JSON.stringify(from)) yield batch([], new Map(), end);
      }

      while (!signal.aborted) {
        const generation = ledger.generation;
        try {
          yield* poll(generation);
        } catch (error) {
          // Cancelled by shutdown: not a failure of the source.
          if (signal.aborted) return;
          throw error;
        }
        // A batch was handed back: poll again from where it started.
        if (ledger.generation !== generation) continue;
        if (!ctx.follow) return;
        if (!(await pause(intervalMs, signal))) return;
      }
    },
  };
}
