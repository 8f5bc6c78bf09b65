import { randomUUID } from "node:crypto";
import type { Message } from "../../core/message.js";
import type { Batch, Source, SourceContext } from "../types.js";
import { EventDecoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { CLOUDEVENTS_BINDING } from "./entry-fields.js";
import { PubSubBuffer } from "./pubsub-buffer.js";
import { redisError } from "./redis-errors.js";
import type { RedisServer } from "./redis-server.js";
import type { RedisSourceOptions } from "./schema.js";

const DEFAULT_MAX_BUFFERED = 10_000;
const DROP_WARNING_INTERVAL_MS = 10_000;

interface Received {
  channel: string;
  pattern: string | undefined;
  body: string;
}

/**
 * SUBSCRIBE / PSUBSCRIBE, at most once: Redis keeps no copy of a published message, so
 * what arrives while the integration is not subscribed, what is dropped when the buffer
 * is full, and what is in memory when the process dies is lost. Acks do nothing; a
 * message that fails goes to the state store's dead letters.
 */
export function createPubSubSource(server: RedisServer, options: RedisSourceOptions, ctx: SourceContext): Source {
  const isPattern = options.pattern !== undefined;
  const subscription = server.key((options.pattern ?? options.channel) as string);
  const decoder = new EventDecoder(options.format, CLOUDEVENTS_BINDING);
  const key = options.key === undefined ? undefined : MessageTemplate.parse(options.key);
  const count = options.batch_size ?? ctx.batchSize;
  const logger = ctx.logger.child({ [isPattern ? "pattern" : "channel"]: subscription });

  const toBatch = async (received: Received[]): Promise<Batch> => {
    const messages: Message[] = [];
    const invalid = new Map<Message, Error>();
    for (const item of received) {
      const decoded = decoder.decode({ body: Buffer.from(item.body, "utf8"), headers: {} });
      const id = decoded.id ?? `redis:${item.channel}:${randomUUID()}`;
      const metadata: Record<string, unknown> = { channel: item.channel, ...(item.pattern === undefined ? {} : { pattern: item.pattern }) };
      if (decoded.cloudevent !== undefined) metadata.cloudevent = decoded.cloudevent;
      const message: Message = { id, payload: decoded.payload, headers: {}, metadata, correlationId: decoded.correlationId ?? id, attempt: 1 };
      messages.push(message);
      if (decoded.error !== undefined) {
        invalid.set(message, decoded.error);
        continue;
      }
      if (key === undefined) continue;
      try {
        message.key = await key.render(message);
      } catch (error) {
        invalid.set(message, error instanceof Error ? error : new Error(String(error)));
      }
    }
    return { messages, ...(invalid.size > 0 ? { invalid } : {}), ack: async () => undefined, nack: async () => undefined };
  };

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      if (signal.aborted) return;
      const buffer = new PubSubBuffer<Received>(options.max_buffered ?? DEFAULT_MAX_BUFFERED);
      const subscriber = server.dedicated(`subscribe:${subscription}`);
      let lastWarning = Number.NEGATIVE_INFINITY;
      const receive = (item: Received): void => {
        if (buffer.push(item)) return;
        const now = performance.now();
        if (now - lastWarning < DROP_WARNING_INTERVAL_MS) return;
        lastWarning = now;
        const dropped = buffer.takeDropped();
        logger.warn({ dropped, max_buffered: buffer.capacity }, `dropped ${dropped} pub/sub messages: ${buffer.capacity} were already waiting (at most once; raise max_buffered or use a stream)`);
      };
      subscriber.on("message", (channel: string, body: string) => receive({ channel, pattern: undefined, body }));
      subscriber.on("pmessage", (pattern: string, channel: string, body: string) => receive({ channel, pattern, body }));
      try {
        try {
          if (isPattern) await subscriber.psubscribe(subscription);
          else await subscriber.subscribe(subscription);
        } catch (error) {
          throw redisError(error, `subscribing to ${subscription}`);
        }
        logger.info(`subscribed to ${isPattern ? "pattern" : "channel"} ${subscription} (at most once)`);
        for (;;) {
          if (ctx.follow) await buffer.waitForItems(signal);
          if (signal.aborted) return;
          const received = buffer.take(count);
          if (received.length === 0) return;
          yield await toBatch(received);
        }
      } finally {
        const lost = buffer.size;
        const dropped = buffer.takeDropped();
        if (lost + dropped > 0) logger.warn({ lost, dropped }, `${lost + dropped} pub/sub messages received but not processed are lost (at most once)`);
        server.release(subscriber);
      }
    },
  };
}
