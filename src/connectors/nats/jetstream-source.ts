import { transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { Batch, Source, SourceContext } from "../types.js";
import { durationMs } from "../shared/config-fields.js";
import { AckDeadlineKeeper } from "./ack-deadline-keeper.js";
import { ensureDurableConsumer } from "./consumer-declaration.js";
import { DeadLetterPublisher, checkDeadLetterSubject } from "./dead-letter-publisher.js";
import { Acknowledger, Delivery } from "./delivery.js";
import { deliveryBatch } from "./delivery-batch.js";
import type { DeliverySettings } from "./delivery-batch.js";
import { headerRecord } from "./header-map.js";
import { MessageReader } from "./message-reader.js";
import type { NatsClient } from "./nats-client.js";
import { natsError } from "./nats-errors.js";
import { PullFeed } from "./pull-feed.js";
import { DEFAULT_ACK_WAIT_MS, DEFAULT_MAX_DELIVER, DEFAULT_NAK_DELAY_MS } from "./schema.js";
import type { NatsSourceOptions } from "./schema.js";

/** Once (not following): how long to wait for messages in transit after the consumer reports none pending. */
const SETTLE_MS = 200;
/** Once: how long to wait for a message before asking the consumer again whether any are pending. */
const ONCE_POLL_MS = 1_000;

/** The default durable consumer name of an integration (consumer names take no dots, spaces or wildcards). */
export function defaultConsumerName(integration: string): string {
  return `junction_${integration}`.replace(/[.*>\s/\\]/g, "_");
}

/**
 * At-least-once JetStream source: a durable pull consumer (declared from the options) read
 * ahead into a bounded buffer; each batch is acknowledged once written or dead-lettered.
 * A lost connection ends the run with a transient error (the engine starts it again);
 * stopping hands back every message not settled, so it is delivered again at once.
 */
export function createJetStreamSource(client: NatsClient, stream: string, options: NatsSourceOptions, ctx: SourceContext): Source {
  const batchSize = options.batch_size ?? ctx.batchSize;
  const ackWaitMs = durationMs(options.ack_wait, DEFAULT_ACK_WAIT_MS);
  const maxDeliver = options.max_deliver ?? DEFAULT_MAX_DELIVER;
  const consumerName = options.consumer ?? defaultConsumerName(ctx.integration);
  const reader = new MessageReader(options.format, options.key);

  return {
    async *batches(signal: AbortSignal): AsyncIterable<Batch> {
      await client.redeclared();
      await ensureDurableConsumer(client.jsm, {
        stream,
        name: consumerName,
        ackWaitMs,
        maxDeliver,
        filterSubject: options.filter_subject,
        maxAckPending: options.max_ack_pending,
      });
      if (options.dead_letter_subject !== undefined) {
        await checkDeadLetterSubject(client.jsm, options.dead_letter_subject, { stream, filterSubject: options.filter_subject });
      }
      const keeper = new AckDeadlineKeeper(ackWaitMs);
      const settings: DeliverySettings = {
        acknowledger: new Acknowledger(client.nc, client.requestTimeoutMs, (delivery) => keeper.release(delivery)),
        maxDeliver,
        nakDelayMs: durationMs(options.nak_delay, DEFAULT_NAK_DELAY_MS),
        deadLetters: options.dead_letter_subject === undefined ? undefined : new DeadLetterPublisher(client.js, options.dead_letter_subject),
      };
      let feed: PullFeed<Delivery>;
      try {
        // Two batches read ahead: one for the engine to take while the previous one is written.
        feed = new PullFeed(await client.js.consumers.get(stream, consumerName), batchSize * 2, (msg) => {
          const delivery = new Delivery(msg);
          keeper.hold(delivery);
          return delivery;
        });
      } catch (error) {
        keeper.stop();
        throw natsError(error, `reading JetStream consumer "${consumerName}" of stream "${stream}"`);
      }
      const stopWatching = client.onDisconnect((server) => feed.fail(transientError(`lost the connection to NATS at ${server}; the run starts again once reconnected`, { code: "nats.disconnected" })));
      try {
        for (;;) {
          const deliveries = ctx.follow ? await feed.take(batchSize, signal) : await takeWhilePending(feed, batchSize, signal, () => pendingCount(client, stream, consumerName));
          if (deliveries.length === 0) return;
          yield await toBatch(deliveries, reader, settings);
          if (signal.aborted) return;
        }
      } catch (error) {
        throw natsError(error, `reading JetStream consumer "${consumerName}" of stream "${stream}"`);
      } finally {
        stopWatching();
        const unread = await feed.close();
        keeper.stop();
        // Buffered, never handed out: back to the server at once rather than after ack_wait.
        await settings.acknowledger.settleAll(unread, { type: "nak", delayMs: 0 }).catch(() => undefined);
      }
    },
  };
}

async function toBatch(deliveries: readonly Delivery[], reader: MessageReader, settings: DeliverySettings): Promise<Batch> {
  const entries = new Map<Message, Delivery>();
  const invalid = new Map<Message, Error>();
  for (const delivery of deliveries) {
    const { msg } = delivery;
    const { stream, streamSequence, deliveryCount } = msg.info;
    const read = await reader.read({
      subject: msg.subject,
      body: msg.data,
      headers: headerRecord(msg.headers),
      fallbackId: `nats:${stream}:${streamSequence}`,
      metadata: { stream, stream_sequence: streamSequence, delivery_count: deliveryCount, published_at: msg.time.toISOString() },
      attempt: deliveryCount,
      position: delivery,
    });
    entries.set(read.message, delivery);
    if (read.error !== undefined) invalid.set(read.message, read.error);
  }
  return deliveryBatch(entries, invalid, settings);
}

/** Once: what is buffered, else what arrives while the consumer still has messages pending; [] when it has none. */
async function takeWhilePending<T>(feed: PullFeed<T>, max: number, signal: AbortSignal, pending: () => Promise<number>): Promise<T[]> {
  for (;;) {
    const ready = await feed.take(max, signal, 0);
    if (ready.length > 0 || signal.aborted) return ready;
    if ((await pending()) === 0) return feed.take(max, signal, SETTLE_MS);
    const arrived = await feed.take(max, signal, ONCE_POLL_MS);
    if (arrived.length > 0 || signal.aborted) return arrived;
  }
}

async function pendingCount(client: NatsClient, stream: string, consumer: string): Promise<number> {
  const info = await client.jsm.consumers.info(stream, consumer);
  return info.num_pending;
}
