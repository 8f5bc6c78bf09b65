import type { ISubscriptionMap } from "mqtt";
import type { Logger } from "pino";
import { abortable, linkSignals } from "../../core/abort.js";
import { transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { durationMs } from "../shared/config-fields.js";
import { EventDecoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { Batch, Source, SourceContext } from "../types.js";
import type { ReceivedPublish } from "./inbox.js";
import { mqttError } from "./mqtt-errors.js";
import type { MqttSession } from "./mqtt-session.js";
import { readMessage } from "./received-message.js";
import type { MqttSourceOptions } from "./schema.js";
import { subscriptionFilter } from "./topic-names.js";

/** MQTT 5 user properties carry CloudEvents attributes under their bare names. */
const BINDING = { headerPrefix: "" };

export interface MqttSourceDeps {
  session: MqttSession;
  connectionName: string;
  /** Aborts when the runtime shuts down: no reconnect is worth it then. */
  shutdown: AbortSignal;
}

/**
 * Subscribes (the subscriptions stay in the persistent session) and hands the messages
 * over in batches. Nothing is acknowledged before `Batch.ack`, in order; MQTT has no
 * negative acknowledgement, so a message that is not acknowledged is delivered again on
 * the next connection: after a restart, a crash, or the reconnect `close` makes when
 * messages were handed out and never acknowledged.
 */
export class MqttSource implements Source {
  readonly #session: MqttSession;
  readonly #options: MqttSourceOptions;
  readonly #ctx: SourceContext;
  readonly #deps: MqttSourceDeps;
  readonly #decoder: EventDecoder;
  readonly #key: MessageTemplate | undefined;
  readonly #log: Logger;
  /** Handed out and not acknowledged yet. */
  readonly #unacked = new Set<ReceivedPublish>();
  #subscribed = false;

  constructor(options: MqttSourceOptions, ctx: SourceContext, deps: MqttSourceDeps) {
    this.#session = deps.session;
    this.#options = options;
    this.#ctx = ctx;
    this.#deps = deps;
    this.#decoder = new EventDecoder(options.format, BINDING);
    this.#key = options.key === undefined ? undefined : MessageTemplate.parse(options.key);
    this.#log = ctx.logger;
  }

  async *batches(signal: AbortSignal): AsyncIterable<Batch> {
    const session = this.#session;
    session.attach(this.#ctx.integration, this.#deps.connectionName);
    const lost = new AbortController();
    const stopListening = session.onLost(() =>
      lost.abort(transientError(`lost the connection to the MQTT broker at ${session.settings.broker}; unacknowledged messages will be delivered again`, { code: "mqtt.connection_lost" })),
    );
    const refused = new AbortController();
    const linked = linkSignals(signal, lost.signal, refused.signal);
    this.#subscribed = false;
    try {
      await session.whenConnected(linked.signal);
      // Messages of a resumed session flow before the SUBACK, and mqtt.js reads packets in
      // order: waiting for the SUBACK before taking them could wait on a full buffer forever.
      void this.#subscribe(linked.signal).then(
        () => {
          this.#subscribed = true;
          // A run that does not follow waits idle_timeout from here for what the broker has queued.
          session.inbox.touch();
        },
        (error: unknown) => refused.abort(error),
      );
      for (;;) {
        const received = await this.#next(linked.signal);
        if (received === undefined) return;
        yield await this.#batch(received);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (refused.signal.aborted) throw refused.signal.reason;
      throw lost.signal.aborted ? lost.signal.reason : error;
    } finally {
      linked.dispose();
      stopListening();
      session.detach(this.#ctx.integration);
    }
  }

  /** Leaves unacknowledged messages to the broker; reconnects so it sends them again, unless the whole runtime is stopping. */
  async close(): Promise<void> {
    const session = this.#session;
    session.detach(this.#ctx.integration);
    const pending = [...this.#unacked].some((received) => received.packet.qos > 0 && received.connection === session.connection);
    this.#unacked.clear();
    if (pending && !this.#deps.shutdown.aborted) session.recycle();
  }

  async #subscribe(signal: AbortSignal): Promise<void> {
    const { topics, shared_group: group } = this.#options;
    const qos = this.#options.qos ?? 1;
    const filters: ISubscriptionMap = {};
    for (const topic of topics) filters[subscriptionFilter(topic, group)] = { qos };
    const { client, settings } = this.#session;
    try {
      await abortable(client.subscribeAsync(filters), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw mqttError(`subscribing to ${Object.keys(filters).join(", ")}`, settings.broker, error);
    }
    this.#log.debug({ topics: Object.keys(filters), qos, client_id: settings.clientId }, "subscribed to MQTT topics");
  }

  /** The next messages; undefined when a run that does not follow has nothing more coming. */
  async #next(signal: AbortSignal): Promise<ReceivedPublish[] | undefined> {
    const inbox = this.#session.inbox;
    const max = this.#ctx.batchSize;
    const idleMs = durationMs(this.#options.idle_timeout, 1000);
    for (;;) {
      signal.throwIfAborted();
      if (inbox.size > 0) {
        await inbox.gather(max);
        return inbox.take(max);
      }
      if (this.#ctx.follow) {
        await inbox.changed(signal);
        continue;
      }
      // Messages handed out and not acknowledged fill the broker's window: more may come once they are.
      const remaining = idleMs - inbox.idleMs;
      if (remaining <= 0 && this.#unacked.size === 0 && this.#subscribed) return undefined;
      await inbox.changed(signal, remaining > 0 ? remaining : idleMs);
    }
  }

  async #batch(received: ReceivedPublish[]): Promise<Batch> {
    const messages: Message[] = [];
    const invalid = new Map<Message, Error>();
    for (const one of received) {
      const read = readMessage(one, this.#decoder);
      messages.push(read.message);
      this.#unacked.add(one);
      if (read.error !== undefined) invalid.set(read.message, read.error);
      else if (this.#key !== undefined) {
        try {
          read.message.key = await this.#key.render(read.message);
        } catch (error) {
          invalid.set(read.message, error as Error);
        }
      }
    }
    return {
      messages,
      ...(invalid.size > 0 ? { invalid } : {}),
      ack: async () => this.#acknowledge(received),
      // MQTT has no negative acknowledgement: the messages stay unacknowledged and come again on the next connection (see close).
      nack: async () => undefined,
    };
  }

  #acknowledge(received: readonly ReceivedPublish[]): void {
    let stale = 0;
    for (const one of received) {
      if (!this.#unacked.delete(one)) continue;
      if (!this.#session.acknowledge(one)) stale++;
    }
    if (stale > 0) this.#log.debug({ stale }, "MQTT messages from a closed connection were not acknowledged; the broker delivers them again");
  }
}
