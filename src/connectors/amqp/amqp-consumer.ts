import type { Channel, ConsumeMessage } from "amqplib";
import type { Logger } from "pino";
import { permanentError, transientError } from "../../core/errors.js";
import { amqpError } from "./amqp-errors.js";
import type { AmqpClient } from "./amqp-client.js";

/**
 * One basic.consume on its own channel with a prefetch window: RabbitMQ pushes at most
 * `prefetch` unacknowledged deliveries, which wait here until the source takes them, so
 * memory is bounded by the prefetch. Acknowledgements go to the channel that received the
 * delivery; after the channel is lost they are skipped, because RabbitMQ redelivers every
 * unacknowledged message of a closed channel.
 */
export class AmqpConsumer {
  readonly queue: string;
  readonly #channel: Channel;
  readonly #logger: Logger;
  #buffer: ConsumeMessage[] = [];
  #wake: (() => void) | undefined;
  #consumerTag: string | undefined;
  #failure: Error | undefined;
  #open = true;

  private constructor(channel: Channel, queue: string, logger: Logger) {
    this.#channel = channel;
    this.queue = queue;
    this.#logger = logger;
    channel.on("error", (error: Error) => this.#lost(amqpError(error, `consuming queue "${queue}"`)));
    channel.on("close", () => this.#lost(transientError(`the RabbitMQ channel consuming queue "${queue}" closed (connection lost or broker restarting)`, { code: "amqp.channel_closed" })));
  }

  static async start(client: AmqpClient, queue: string, prefetch: number, logger: Logger, consumerTag?: string): Promise<AmqpConsumer> {
    const channel = await client.channel();
    const consumer = new AmqpConsumer(channel, queue, logger);
    try {
      await channel.prefetch(prefetch);
      const reply = await channel.consume(queue, (delivery) => consumer.#receive(delivery), { noAck: false, ...(consumerTag ? { consumerTag } : {}) });
      consumer.#consumerTag = reply.consumerTag;
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw amqpError(error, `consuming queue "${queue}"`);
    }
    return consumer;
  }

  /** Whether acknowledgements still reach the broker. */
  get open(): boolean {
    return this.#open;
  }

  /**
   * Up to `max` deliveries, waiting until at least one is there, `signal` aborts (empty
   * result) or `idleMs` passes without any (empty result). Throws once the channel is lost.
   */
  async take(max: number, signal: AbortSignal, idleMs?: number): Promise<ConsumeMessage[]> {
    while (this.#buffer.length === 0) {
      if (this.#failure !== undefined) throw this.#failure;
      if (signal.aborted) return [];
      const woke = await this.#waitForDelivery(signal, idleMs);
      if (!woke && this.#buffer.length === 0 && this.#failure === undefined) return [];
      // Deliveries of one burst arrive back to back: let those already on the socket in first.
      if (woke && this.#buffer.length < max) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return this.#buffer.length <= max ? this.#buffer.splice(0) : this.#buffer.splice(0, max);
  }

  /** Acknowledges `delivery` and every earlier one not yet settled on this channel. */
  ackUpTo(delivery: ConsumeMessage): void {
    this.#settle(() => this.#channel.ack(delivery, true));
  }

  ackOne(delivery: ConsumeMessage): void {
    this.#settle(() => this.#channel.ack(delivery, false));
  }

  /** Gives deliveries back to the queue (shutdown, failed run): they are delivered again. */
  requeue(deliveries: readonly ConsumeMessage[]): void {
    for (const delivery of deliveries) this.#settle(() => this.#channel.nack(delivery, false, true));
  }

  /** Stops new deliveries and returns the buffered ones to the queue; the channel stays open for acknowledgements of messages in flight. */
  async cancel(): Promise<void> {
    const tag = this.#consumerTag;
    this.#consumerTag = undefined;
    if (tag !== undefined && this.#open) {
      try {
        await this.#channel.cancel(tag);
      } catch (error) {
        this.#logger.debug({ err: error }, "cancelling the RabbitMQ consumer failed (channel already closed)");
      }
    }
    this.requeue(this.#buffer.splice(0));
  }

  /** Closes the channel: RabbitMQ requeues whatever is still unacknowledged on it. */
  async close(): Promise<void> {
    await this.cancel();
    if (!this.#open) return;
    this.#open = false;
    try {
      await this.#channel.close();
    } catch {
      // closed with its connection
    }
  }

  #settle(operation: () => void): void {
    if (!this.#open) return;
    try {
      operation();
    } catch (error) {
      // The channel closed between our check and the call: RabbitMQ redelivers the message.
      this.#logger.debug({ err: error }, "acknowledgement skipped: the RabbitMQ channel is closed; the message will be delivered again");
    }
  }

  #receive(delivery: ConsumeMessage | null): void {
    if (delivery === null) {
      this.#lost(permanentError(`RabbitMQ cancelled the consumer of queue "${this.queue}" (the queue was deleted?)`, { code: "amqp.consumer_cancelled" }));
      return;
    }
    this.#buffer.push(delivery);
    this.#wake?.();
  }

  #lost(error: Error): void {
    this.#open = false;
    this.#failure ??= error;
    this.#buffer = [];
    this.#wake?.();
  }

  #waitForDelivery(signal: AbortSignal, idleMs: number | undefined): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (woke: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        resolve(woke);
      };
      const onAbort = (): void => finish(false);
      this.#wake = () => finish(true);
      signal.addEventListener("abort", onAbort, { once: true });
      if (idleMs !== undefined) timer = setTimeout(() => finish(false), idleMs);
    });
  }
}
