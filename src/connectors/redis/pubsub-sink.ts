import { abortError } from "../../core/abort.js";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import { failAll } from "../types.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { CLOUDEVENTS_BINDING } from "./entry-fields.js";
import { redisError } from "./redis-errors.js";
import type { RedisServer } from "./redis-server.js";
import type { RedisSinkOptions } from "./schema.js";

/**
 * PUBLISHes each message's body to its channel, the batch in one pipeline. At most once:
 * a message published while no subscriber listens is gone, and the reply (the number of
 * subscribers that received it) is only logged when it is zero. Pub/sub has no headers,
 * so only a structured CloudEvent carries the correlation id and trace context along.
 */
export function createPubSubSink(server: RedisServer, options: RedisSinkOptions, ctx: SinkContext): Sink {
  const channel = MessageTemplate.parse(options.channel as string);
  const encoder = new EventEncoder({ ...(options.format ? { format: options.format } : {}), ...(options.cloudevents ? { cloudevents: options.cloudevents } : {}) }, CLOUDEVENTS_BINDING, ctx.integration);

  return {
    async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
      if (signal.aborted) return failAll(messages, abortError(signal));
      const failures: MessageFailure[] = [];
      const sent: number[] = [];
      const pipeline = server.commands.pipeline();
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index] as Message;
        try {
          pipeline.publish(server.key(await channel.render(message)), encoder.encode(message).body);
          sent.push(index);
        } catch (error) {
          failures.push({ index, error: permanentError(`cannot publish message ${message.id}: ${(error as Error).message}`, { cause: error }) });
        }
      }
      if (sent.length === 0) return { failures };
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await pipeline.exec();
      } catch (error) {
        const failed = redisError(error, "publishing messages");
        return { failures: [...failures, ...sent.map((index) => ({ index, error: failed }))].sort((a, b) => a.index - b.index) };
      }
      let unheard = 0;
      sent.forEach((index, at) => {
        const [error, receivers] = results?.[at] ?? [new Error("no reply to PUBLISH"), 0];
        if (error) failures.push({ index, error: redisError(error, `publishing message ${(messages[index] as Message).id}`) });
        else if (receivers === 0) unheard += 1;
      });
      if (unheard > 0) ctx.logger.debug({ unheard }, `${unheard} published messages reached no subscriber (at most once)`);
      return { failures: failures.sort((a, b) => a.index - b.index) };
    },
  };
}
