import type { Message } from "../../core/message.js";
import { transientError } from "../../core/errors.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { NatsClient } from "./nats-client.js";
import { natsError } from "./nats-errors.js";
import { OutgoingMessages } from "./outgoing-message.js";
import type { NatsSinkOptions } from "./schema.js";

/**
 * Core NATS publish (at most once, chosen explicitly with `at_most_once: true`): a write
 * succeeds once the server has received the messages (a flush), which says nothing about
 * whether anyone was subscribed.
 */
export function createCoreSink(client: NatsClient, options: NatsSinkOptions, ctx: SinkContext): Sink {
  const outgoing = new OutgoingMessages(options, ctx.integration);
  return {
    async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
      const failures: MessageFailure[] = [];
      const sent: number[] = [];
      for (let index = 0; index < messages.length; index++) {
        if (signal.aborted) {
          failures.push({ index, error: transientError("the write was cancelled before this message was published", { code: "nats.cancelled" }) });
          continue;
        }
        try {
          const { subject, body, headers } = await outgoing.render(messages[index] as Message);
          client.nc.publish(subject, body, { headers });
          sent.push(index);
        } catch (error) {
          failures.push({ index, error: natsError(error, "publishing on core NATS") });
        }
      }
      if (sent.length > 0) {
        try {
          await withTimeout(client.nc.flush(), client.requestTimeoutMs);
        } catch (error) {
          const failed = natsError(error, "flushing core NATS publishes");
          for (const index of sent) failures.push({ index, error: failed });
          failures.sort((a, b) => a.index - b.index);
        }
      }
      return { failures };
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(transientError(`the NATS server did not confirm within ${ms}ms`, { code: "nats.timeout" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
