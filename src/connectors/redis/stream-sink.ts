import type { Message } from "../../core/message.js";
import type { Sink, SinkContext, WriteOutcome } from "../types.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { CLOUDEVENTS_BINDING, eventFields } from "./entry-fields.js";
import { writePipelined } from "./pipelined-write.js";
import type { RedisServer } from "./redis-server.js";
import type { RedisSinkOptions } from "./schema.js";

/**
 * XADDs each message to its stream (a template per message), the whole batch in one
 * pipeline. A message counts as written once its XADD replied with an entry id; a reply
 * error fails that message alone, a lost connection fails the rest (transient).
 */
export function createStreamSink(server: RedisServer, options: RedisSinkOptions, ctx: SinkContext): Sink {
  const stream = MessageTemplate.parse(options.stream as string);
  const encoder = new EventEncoder({ ...(options.format ? { format: options.format } : {}), ...(options.cloudevents ? { cloudevents: options.cloudevents } : {}) }, CLOUDEVENTS_BINDING, ctx.integration);
  const trim = options.max_len === undefined ? [] : ["MAXLEN", "~", String(options.max_len)];

  return {
    async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
      const outcome = await writePipelined(server, messages, signal, {
        doing: "adding messages to the stream",
        queue: async (pipeline, message) => void pipeline.call("XADD", server.key(await stream.render(message)), ...trim, "*", ...eventFields(message, encoder.encode(message))),
        refuse: (id) => (typeof id === "string" ? undefined : "XADD gave no entry id"),
      });
      return { failures: outcome.failures };
    },
  };
}
