import { pause } from "../../core/abort.js";
import { configError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { PositionLedger } from "../shared/position-ledger.js";
import type { Batch, Source, SourceContext } from "../types.js";
import { compilePayloadTemplate, defaultPayload } from "./payload-template.js";
import type { PayloadBuilder } from "./payload-template.js";
import type { GenerateSourceOptions } from "./schema.js";

/** Checkpoint with resume: true. */
export interface GenerateCheckpoint {
  next: number;
}

export function createGenerateSource(options: GenerateSourceOptions, ctx: SourceContext): Source {
  if (options.count === undefined && !ctx.follow) {
    throw configError("generate source without count never ends: set count, or use a continuous trigger", { code: "config.generate_count" });
  }
  const batchSize = options.batch_size ?? ctx.batchSize;
  const intervalMs = durationMs(options.interval, 0);
  const first = options.start ?? 1;
  const end = options.count === undefined ? Number.POSITIVE_INFINITY : first + options.count;
  const build: PayloadBuilder = options.payload === undefined ? defaultPayload : compilePayloadTemplate(options.payload);
  const resume = options.resume ?? false;

  return {
    async describe() {
      if (options.count === undefined) return {};
      const start = resume ? await loadCheckpoint(ctx, first) : first;
      return { estimatedCount: Math.max(0, end - start) };
    },
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const start = resume ? await loadCheckpoint(ctx, first) : first;
      const ledger = new PositionLedger<number>(start, async (next) => {
        if (resume) await ctx.checkpoints.set({ next } satisfies GenerateCheckpoint);
      });
      let firstBatch = true;
      while (!signal.aborted && ledger.reading < end) {
        if (intervalMs > 0 && !firstBatch && !(await pause(intervalMs, signal))) return;
        firstBatch = false;
        const from = ledger.reading;
        const size = Math.min(batchSize, end - from);
        const now = new Date().toISOString();
        const messages: Message[] = new Array<Message>(size);
        for (let n = 0; n < size; n++) {
          const i = from + n;
          const id = `generate:${i}`;
          messages[n] = { id, payload: build(i, now), headers: {}, metadata: {}, correlationId: id, attempt: 1, key: String(i), position: i + 1 };
        }
        const settle = ledger.advance(from + size);
        yield { messages, ack: settle.ack, nack: async () => settle.nack() };
      }
    },
  };
}

async function loadCheckpoint(ctx: SourceContext, first: number): Promise<number> {
  const stored = (await ctx.checkpoints.get()) as { next?: unknown } | undefined | null;
  if (stored === undefined || stored === null) return first;
  if (typeof stored.next === "number" && Number.isInteger(stored.next)) return stored.next;
  ctx.logger.warn({ checkpoint: stored }, "generate source: ignoring a checkpoint that is not { next }; starting from start");
  return first;
}
