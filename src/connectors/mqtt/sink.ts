import { setMaxListeners } from "node:events";
import type { IClientPublishOptions } from "mqtt";
import { abortError, abortable, linkSignals } from "../../core/abort.js";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import { mqttError } from "./mqtt-errors.js";
import type { MqttSession } from "./mqtt-session.js";
import { publishProperties } from "./publish-properties.js";
import type { MqttSinkOptions } from "./schema.js";
import { topicNameProblem } from "./topic-names.js";

/** MQTT 5 user properties carry CloudEvents attributes under their bare names. */
const BINDING = { headerPrefix: "" };

interface Publication {
  topic: string;
  body: Buffer;
  options: IClientPublishOptions;
}

/**
 * Publishes every message and reports it written only once the broker acknowledged it
 * (PUBACK for QoS 1, PUBCOMP for QoS 2). A message whose topic template fails is a
 * permanent failure of that message alone; a refused publish fails by its reason code;
 * a connection that stays lost longer than connect_timeout fails what is pending as
 * transient (mqtt.js may still send those after it reconnects: the message-id property
 * lets consumers recognise the copy).
 */
export class MqttSink implements Sink {
  readonly #session: MqttSession;
  readonly #options: MqttSinkOptions;
  readonly #topic: MessageTemplate;
  readonly #encoder: EventEncoder;

  constructor(session: MqttSession, options: MqttSinkOptions, ctx: SinkContext) {
    this.#session = session;
    this.#options = options;
    this.#topic = MessageTemplate.parse(options.topic);
    this.#encoder = new EventEncoder({ ...(options.format ? { format: options.format } : {}), ...(options.cloudevents ? { cloudevents: options.cloudevents } : {}) }, BINDING, ctx.integration);
  }

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    const session = this.#session;
    try {
      await session.whenConnected(signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      return failAll(messages, error);
    }
    const gaveUp = new AbortController();
    const stopWatching = session.onLost(() => {
      session.whenConnected(signal).catch((error: unknown) => gaveUp.abort(error));
    });
    const linked = linkSignals(signal, gaveUp.signal);
    // Every publish of the write listens to it (and is removed when settled).
    setMaxListeners(0, linked.signal);
    const failures: MessageFailure[] = [];
    try {
      await Promise.all(
        messages.map(async (message, index) => {
          const error = await this.#publishOne(message, linked.signal);
          if (error !== undefined) failures.push({ index, error });
        }),
      );
    } finally {
      linked.dispose();
      stopWatching();
    }
    if (signal.aborted) throw abortError(signal);
    return { failures: failures.sort((a, b) => a.index - b.index) };
  }

  /** Publishes one message; resolves with its error, or undefined once the broker has it. */
  async #publishOne(message: Message, signal: AbortSignal): Promise<unknown> {
    let publication: Publication;
    try {
      publication = await this.#publication(message);
    } catch (error) {
      return permanentError(`message ${message.id} has no valid MQTT topic: ${(error as Error).message}`, { code: "mqtt.topic", cause: error });
    }
    const { client, publishSlots, settings } = this.#session;
    const qos = publication.options.qos ?? 1;
    try {
      if (qos > 0) await publishSlots.acquire(signal);
      try {
        await abortable(client.publishAsync(publication.topic, publication.body, publication.options), signal);
      } finally {
        if (qos > 0) publishSlots.release();
      }
      return undefined;
    } catch (error) {
      return mqttError(`publishing to "${publication.topic}"`, settings.broker, error);
    }
  }

  async #publication(message: Message): Promise<Publication> {
    const topic = await this.#topic.render(message);
    const problem = topicNameProblem(topic);
    if (problem !== undefined) throw new Error(problem);
    const event = this.#encoder.encode(message);
    const options: IClientPublishOptions = { qos: this.#options.qos ?? 1, retain: this.#options.retain ?? false };
    if (this.#session.settings.protocolVersion === 5) options.properties = publishProperties(event.headers, message.id, event.contentType);
    return { topic, body: event.body, options };
  }
}
