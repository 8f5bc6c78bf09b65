import { hostname } from "node:os";
import type { Batch, Source, SourceContext } from "../types.js";
import { durationMs } from "../shared/config-fields.js";
import { ConsumerGroup } from "./consumer-group.js";
import type { DeliveredEntry } from "./consumer-group.js";
import { EntryDecoder } from "./entry-message.js";
import type { RedisServer } from "./redis-server.js";
import type { RedisSourceOptions } from "./schema.js";
import { streamBatch } from "./stream-batch.js";

const DEFAULT_BLOCK_MS = 5_000;
const DEFAULT_CLAIM_IDLE_MS = 60_000;
const DEFAULT_MAX_DELIVERIES = 5;
/** Idle claims are looked for every half claim_idle, within these bounds. */
const MIN_CLAIM_INTERVAL_MS = 100;
const MAX_CLAIM_INTERVAL_MS = 30_000;
/** A following read always blocks a little, so that `block: 0` cannot spin. */
const MIN_BLOCK_MS = 10;
/** XAUTOCLAIM's cursor once the whole pending list has been scanned. */
const SCAN_DONE = "0-0";

/** The default consumer name: the same for every run of an integration on one host. */
export function defaultConsumerName(integration: string): string {
  return `${hostname()}-${integration}`;
}

export function defaultGroupName(integration: string): string {
  return `junction.${integration}`;
}

/**
 * Reads a stream through a consumer group, at least once. Each run first reads this
 * consumer's own pending entries (those a killed process read and never acknowledged),
 * then claims entries idle longer than claim_idle with any consumer, then reads new
 * entries; while following it blocks for new ones and looks for idle entries every half
 * claim_idle. Reads happen only when the runner pulls (backpressure), on a connection of
 * their own that is closed when the run stops, which ends a blocking read at once.
 */
export function createStreamSource(server: RedisServer, options: RedisSourceOptions, ctx: SourceContext): Source {
  const names = {
    stream: server.key(options.stream as string),
    group: options.group ?? defaultGroupName(ctx.integration),
    consumer: options.consumer ?? defaultConsumerName(ctx.integration),
  };
  const logger = ctx.logger.child({ stream: names.stream, group: names.group, consumer: names.consumer });
  const group = new ConsumerGroup(server.commands, names, logger);
  const decoder = new EntryDecoder(names, options.format, options.key);
  const count = options.batch_size ?? ctx.batchSize;
  const blockMs = durationMs(options.block, DEFAULT_BLOCK_MS);
  const claimIdleMs = durationMs(options.claim_idle, DEFAULT_CLAIM_IDLE_MS);
  const claimIntervalMs = Math.min(MAX_CLAIM_INTERVAL_MS, Math.max(MIN_CLAIM_INTERVAL_MS, claimIdleMs / 2));
  const settlement = {
    maxDeliveries: options.max_deliveries ?? DEFAULT_MAX_DELIVERIES,
    deadLetterStream: options.dead_letter_stream === undefined ? undefined : server.key(options.dead_letter_stream),
  };

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      if (signal.aborted) return;
      const reader = server.dedicated(`read:${names.stream}`);
      const stopReading = (): void => server.release(reader);
      signal.addEventListener("abort", stopReading, { once: true });
      const inFlight = new Set<string>();
      const toBatch = async (entries: DeliveredEntry[]): Promise<Batch> => {
        for (const entry of entries) inFlight.add(entry.id);
        const decoded = await Promise.all(entries.map((entry) => decoder.decode(entry)));
        return streamBatch(group, decoded, settlement, inFlight, logger);
      };
      try {
        await group.ensure(options.start ?? "earliest");
        // 1. This consumer's own pending entries, from a process that stopped before acknowledging them.
        for (let after = "0"; ; ) {
          const read = await group.readOwnPending(reader, after, count);
          if (read.last === undefined) break;
          after = read.last;
          if (read.entries.length > 0) {
            logger.info({ count: read.entries.length }, `re-reading ${read.entries.length} entries this consumer read before and never acknowledged`);
            yield await toBatch(read.entries);
          }
        }
        // 2. Entries idle with any consumer, then new ones; idle ones again every claim interval.
        let claimCursor = SCAN_DONE;
        let nextClaimAt = 0;
        for (;;) {
          if (signal.aborted) return;
          const now = performance.now();
          if (now >= nextClaimAt) {
            const claimed = await group.claimIdle(reader, claimCursor, claimIdleMs, count);
            claimCursor = claimed.cursor;
            if (claimCursor === SCAN_DONE) nextClaimAt = performance.now() + claimIntervalMs;
            const entries = claimed.entries.filter((entry) => !inFlight.has(entry.id));
            if (entries.length > 0) {
              logger.info({ count: entries.length, claim_idle_ms: claimIdleMs }, `claimed ${entries.length} entries pending for more than ${claimIdleMs}ms`);
              yield await toBatch(entries);
            }
            continue;
          }
          const wait = ctx.follow ? Math.max(MIN_BLOCK_MS, Math.min(blockMs, nextClaimAt - now)) : undefined;
          const entries = await group.readNew(reader, count, wait);
          if (entries.length > 0) yield await toBatch(entries);
          else if (!ctx.follow) return;
        }
      } catch (error) {
        // A read cut off by the stop signal (its connection closed) is the normal end.
        if (signal.aborted) return;
        throw error;
      } finally {
        signal.removeEventListener("abort", stopReading);
        server.release(reader);
      }
    },
  };
}
