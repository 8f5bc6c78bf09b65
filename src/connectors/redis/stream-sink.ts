import { abortError } from "../../core/abort.js";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import { failAll } from "../types.js";
import { EventEncoder } from "../shared/events/event-codec.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { CLOUDEVENTS_BINDING, eventFields } from "./entry-fields.js";
import { redisError } from "./redis-errors.js";
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
      if (signal.aborted) return failAll(messages, abortError(signal));
      const failures: MessageFailure[] = [];
      const sent: number[] = [];
      const pipeline = server.commands.pipeline();
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index] as Message;
        try {
          const key = server.key(await stream.render(message));
          pipeline.call("XADD", key, ...trim, "*", ...eventFields(message, encoder.encode(message)));
          sent.push(index);
        } catch (error) {
          failures.push({ index, error: permanentError(`cannot add message ${message.id} to a stream: ${(error as Error).message}`, { cause: error }) });
        }
      }
      if (sent.length === 0) return { failures };
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await pipeline.exec();
      } catch (error) {
        const failed = redisError(error, "adding messages to the stream");
        return { failures: [...failures, ...sent.map((index) => ({ index, error: failed }))].sort((a, b) => a.index - b.index) };
      }
      sent.forEach((index, at) => {
        const [error, id] = results?.[at] ?? [new Error("no reply to XADD"), null];
        if (error) failures.push({ index, error: redisError(error, `adding message ${(messages[index] as Message).id} to the stream`) });
        else if (typeof id !== "string") failures.push({ index, error: redisError(new Error("XADD gave no entry id"), "adding to the stream") });
      });
      return { failures: failures.sort((a, b) => a.index - b.index) };
    },
  };
}
