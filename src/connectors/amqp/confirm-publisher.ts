import type { ConfirmChannel, Message as AmqpMessage, Options } from "amqplib";
import { permanentError, transientError } from "../../core/errors.js";
import { amqpError } from "./amqp-errors.js";

export interface PublishRequest {
  exchange: string;
  routingKey: string;
  content: Buffer;
  /** Must carry a messageId: returned (unroutable) messages are matched by it. */
  options: Options.Publish & { messageId: string };
}

interface InFlight {
  request: PublishRequest;
  settle(error: Error | undefined): void;
  returned: boolean;
}

/**
 * Publishes through one confirm channel: many messages in flight at once (batched
 * confirms), each resolved only when RabbitMQ has confirmed it — i.e. written it to every
 * queue it routes to, on disk for persistent messages in durable queues. A nack, a
 * channel or connection lost before the confirm, or (with `mandatory`) a message no queue
 * takes, fails that message alone.
 */
export class ConfirmPublisher {
  readonly #channel: ConfirmChannel;
  readonly #maxInFlight: number;
  readonly #inFlight = new Set<InFlight>();
  #slotWaiters: (() => void)[] = [];
  #closedError: Error | undefined;

  constructor(channel: ConfirmChannel, maxInFlight: number) {
    this.#channel = channel;
    this.#maxInFlight = maxInFlight;
    channel.on("return", (message: AmqpMessage) => this.#onReturn(message));
    channel.on("close", () => this.#onClose(transientError("the RabbitMQ channel closed before the broker confirmed the publish")));
    channel.on("error", (error: Error) => this.#onClose(amqpError(error, "publishing")));
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  /** Resolves to one entry per request: undefined when confirmed, else why it failed. */
  async publishAll(requests: readonly PublishRequest[], signal: AbortSignal): Promise<(Error | undefined)[]> {
    const outcomes: Promise<Error | undefined>[] = [];
    for (const request of requests) {
      if (signal.aborted) {
        outcomes.push(Promise.resolve(transientError("publishing was cancelled (shutting down)")));
        continue;
      }
      while (this.#inFlight.size >= this.#maxInFlight && this.#closedError === undefined) await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
      outcomes.push(this.#publish(request));
      if (this.#needsDrain) await this.#drained();
    }
    return Promise.all(outcomes);
  }

  async close(): Promise<void> {
    if (this.#closedError !== undefined) return;
    try {
      await this.#channel.close();
    } catch {
      // already closing with its connection
    }
  }

  #needsDrain = false;

  #publish(request: PublishRequest): Promise<Error | undefined> {
    if (this.#closedError !== undefined) return Promise.resolve(this.#closedError);
    return new Promise((resolve) => {
      const entry: InFlight = {
        request,
        returned: false,
        settle: (error) => {
          if (!this.#inFlight.delete(entry)) return;
          this.#slotWaiters.shift()?.();
          resolve(error);
        },
      };
      this.#inFlight.add(entry);
      try {
        const accepted = this.#channel.publish(request.exchange, request.routingKey, request.content, request.options, (error: unknown) => {
          if (error) entry.settle(error instanceof Error && error.message === "channel closed" ? transientError("the RabbitMQ channel closed before the broker confirmed the publish") : transientError(`RabbitMQ refused the message (nack): ${String(error)}`));
          else if (entry.returned) entry.settle(unroutable(request));
          else entry.settle(undefined);
        });
        if (!accepted) this.#needsDrain = true;
      } catch (error) {
        entry.settle(amqpError(error, "publishing"));
      }
    });
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#channel.off("drain", done);
        this.#channel.off("close", done);
        this.#needsDrain = false;
        resolve();
      };
      this.#channel.on("drain", done);
      this.#channel.on("close", done);
    });
  }

  #onReturn(message: AmqpMessage): void {
    const id = message.properties.messageId as string | undefined;
    for (const entry of this.#inFlight) {
      if (!entry.returned && entry.request.options.messageId === id && entry.request.routingKey === message.fields.routingKey) {
        entry.returned = true;
        return;
      }
    }
  }

  #onClose(error: Error): void {
    if (this.#closedError !== undefined) return;
    this.#closedError = error;
    for (const entry of [...this.#inFlight]) entry.settle(error);
    for (const waiter of this.#slotWaiters.splice(0)) waiter();
  }
}

function unroutable(request: PublishRequest): Error {
  const exchange = request.exchange === "" ? "the default exchange" : `exchange "${request.exchange}"`;
  return permanentError(
    `no queue is bound to ${exchange} for routing key "${request.routingKey}", so RabbitMQ would drop the message: bind a queue (connection bindings) or fix the routing key`,
    { code: "amqp.unroutable" },
  );
}
