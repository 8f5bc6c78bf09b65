import type { Msg, Subscription } from "@nats-io/transport-node";
import { newId } from "../../core/ids.js";
import type { Message } from "../../core/message.js";
import type { Batch, Source, SourceContext } from "../types.js";
import { headerRecord } from "./header-map.js";
import { MessageReader } from "./message-reader.js";
import type { NatsClient } from "./nats-client.js";
import { natsError } from "./nats-errors.js";
import { DEFAULT_CORE_MAX_PENDING } from "./schema.js";
import type { NatsSourceOptions } from "./schema.js";

/** Not following: how long to wait for a message before ending the run. */
const ONCE_IDLE_MS = 500;
const DROP_WARNING_EVERY_MS = 10_000;

/**
 * Core NATS subscription (at most once, chosen explicitly with `at_most_once: true`):
 * nothing is acknowledged, a message that arrives while nobody is subscribed or that is in
 * flight when the process stops is gone. Core NATS has no flow control, so beyond
 * `max_pending` unread messages new ones are dropped (and counted in a warning).
 */
export function createCoreSource(client: NatsClient, subject: string, options: NatsSourceOptions, ctx: SourceContext): Source {
  const batchSize = options.batch_size ?? ctx.batchSize;
  const maxPending = options.max_pending ?? DEFAULT_CORE_MAX_PENDING;
  const reader = new MessageReader(options.format, options.key);

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      const buffer: Msg[] = [];
      let wake: (() => void) | undefined;
      let dropped = 0;
      let lastWarning = 0;
      let subscription: Subscription;
      try {
        subscription = client.nc.subscribe(subject, {
          ...(options.queue === undefined ? {} : { queue: options.queue }),
          callback: (error, msg) => {
            if (error !== null) return;
            if (buffer.length >= maxPending) {
              dropped++;
              if (Date.now() - lastWarning > DROP_WARNING_EVERY_MS) {
                lastWarning = Date.now();
                ctx.logger.warn({ subject, dropped }, `core NATS subscription on ${subject}: ${dropped} messages dropped so far (more than max_pending ${maxPending} unread)`);
              }
              return;
            }
            buffer.push(msg);
            wake?.();
          },
        });
        await client.nc.flush();
      } catch (error) {
        throw natsError(error, `subscribing to ${subject}`);
      }
      const waitForMessage = (waitMs: number | undefined): Promise<void> =>
        new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            wake = undefined;
            resolve();
          };
          const timer = waitMs === undefined ? undefined : setTimeout(done, waitMs);
          signal.addEventListener("abort", done, { once: true });
          wake = done;
        });
      try {
        while (!signal.aborted) {
          if (buffer.length === 0) await waitForMessage(ctx.follow ? undefined : ONCE_IDLE_MS);
          if (buffer.length === 0) {
            if (!ctx.follow || signal.aborted) return;
            continue;
          }
          yield await toBatch(buffer.splice(0, batchSize), reader);
        }
      } finally {
        subscription.unsubscribe();
      }
    },
  };
}

async function toBatch(msgs: readonly Msg[], reader: MessageReader): Promise<Batch> {
  const messages: Message[] = [];
  const invalid = new Map<Message, Error>();
  for (const msg of msgs) {
    const read = await reader.read({
      subject: msg.subject,
      body: msg.data,
      headers: headerRecord(msg.headers),
      fallbackId: `nats:${newId()}`,
      metadata: {},
      attempt: 1,
    });
    messages.push(read.message);
    if (read.error !== undefined) invalid.set(read.message, read.error);
  }
  return {
    messages,
    ...(invalid.size > 0 ? { invalid } : {}),
    async ack() {},
    async nack() {},
  };
}
