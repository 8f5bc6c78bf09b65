import type { Message } from "../../core/message.js";
import type { Sink, SinkContext, WriteOutcome } from "../types.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { CLOUDEVENTS_BINDING } from "./entry-fields.js";
import { writePipelined } from "./pipelined-write.js";
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
      const outcome = await writePipelined(server, messages, signal, {
        doing: "publishing messages",
        queue: async (pipeline, message) => void pipeline.publish(server.key(await channel.render(message)), encoder.encode(message).body),
      });
      let unheard = 0;
      for (const receivers of outcome.replies.values()) if (receivers === 0) unheard += 1;
      if (unheard > 0) ctx.logger.debug({ unheard }, `${unheard} published messages reached no subscriber (at most once)`);
      return { failures: outcome.failures };
    },
  };
}
