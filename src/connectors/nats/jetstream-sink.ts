import type { Message } from "../../core/message.js";
import { permanentError, transientError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { NatsClient } from "./nats-client.js";
import { isNoResponders, isStreamNotFound, natsError } from "./nats-errors.js";
import { OutgoingMessages } from "./outgoing-message.js";
import { DEFAULT_MAX_IN_FLIGHT } from "./schema.js";
import type { NatsSinkOptions } from "./schema.js";

/** JetStream API code of a publish whose subject is stored by another stream than the expected one. */
const EXPECTED_STREAM_MISMATCH = 10060;

/**
 * Publishes every message to JetStream with Nats-Msg-Id = message id (a retried publish is
 * dropped by the stream's duplicate window) and the expected stream, up to max_in_flight at
 * once, each reported written only once its PubAck arrived.
 */
export function createJetStreamSink(client: NatsClient, stream: string, options: NatsSinkOptions, ctx: SinkContext): Sink {
  const outgoing = new OutgoingMessages(options, ctx.integration);
  const maxInFlight = options.max_in_flight ?? DEFAULT_MAX_IN_FLIGHT;

  return {
    async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
      const failures: MessageFailure[] = [];
      const explain = new NoResponderExplainer(client);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < messages.length) {
          const index = next++;
          const message = messages[index] as Message;
          if (signal.aborted) {
            failures.push({ index, error: transientError("the write was cancelled before this message was published", { code: "nats.cancelled" }) });
            continue;
          }
          try {
            const { subject, body, headers } = await outgoing.render(message);
            try {
              await client.js.publish(subject, body, { headers, msgID: message.id, expect: { streamName: stream }, timeout: client.requestTimeoutMs });
            } catch (error) {
              throw await publishError(error, subject, stream, explain);
            }
          } catch (error) {
            failures.push({ index, error });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(maxInFlight, messages.length) }, worker));
      failures.sort((a, b) => a.index - b.index);
      return { failures };
    },
  };
}

async function publishError(error: unknown, subject: string, stream: string, explain: NoResponderExplainer): Promise<JunctionError> {
  const doing = `publishing to ${subject}`;
  if (isNoResponders(error)) return explain.forSubject(subject, error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === EXPECTED_STREAM_MISMATCH) {
    return permanentError(`${doing}: the subject is stored by another stream than "${stream}"; fix the subject template or the target's stream`, { code: "nats.wrong_stream", cause: error });
  }
  return natsError(error, doing);
}

/**
 * A JetStream publish nobody answered: either no stream stores the subject (permanent: the
 * template or the streams are wrong) or JetStream is not reachable right now (transient).
 * Asks the server which stream stores the subject, once per subject and write.
 */
class NoResponderExplainer {
  readonly #client: NatsClient;
  readonly #known = new Map<string, Promise<JunctionError>>();

  constructor(client: NatsClient) {
    this.#client = client;
  }

  forSubject(subject: string, cause: unknown): Promise<JunctionError> {
    let explained = this.#known.get(subject);
    if (explained === undefined) {
      explained = this.#explain(subject, cause);
      this.#known.set(subject, explained);
    }
    return explained;
  }

  async #explain(subject: string, cause: unknown): Promise<JunctionError> {
    try {
      await this.#client.jsm.streams.find(subject);
    } catch (error) {
      if (isStreamNotFound(error)) {
        return permanentError(`publishing to ${subject}: no stream matches subject ${subject}; add it to a stream's subjects (connection streams:) or fix the subject template`, {
          code: "nats.no_stream",
          cause,
        });
      }
    }
    return natsError(cause, `publishing to ${subject}`);
  }
}
