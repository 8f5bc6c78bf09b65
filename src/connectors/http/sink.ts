import { setMaxListeners } from "node:events";
import type { Message } from "../../core/message.js";
import { transientError } from "../../core/errors.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { HttpClient } from "./http-client.js";
import { messageRequester } from "./message-request.js";
import type { HttpSinkOptions } from "./schema.js";

/**
 * Sends one request per message, up to `concurrency` at once (messages with the same key one
 * after another, in order). Each message succeeds or fails on its own (per-message failures
 * in the outcome): 2xx is written, 408/425/429/5xx and
 * network errors are transient (with Retry-After), 401/403 are auth errors, other 4xx
 * permanent. Every request carries an Idempotency-Key that is the same on each retry, so an
 * API that supports it never performs a retried request twice.
 */
export function createHttpSink(client: HttpClient, options: HttpSinkOptions, ctx: SinkContext): Sink {
  const send = messageRequester(client, options, ctx.integration);
  const concurrency = options.concurrency ?? 8;

  async function writeAll(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    const failures: MessageFailure[] = [];
    const lanes = keyLanes(messages);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < lanes.length) {
        const lane = lanes[next++] as number[];
        let blocked = false;
        for (const index of lane) {
          const error = signal.aborted
            ? transientError("the write was cancelled before this request was sent", { code: "http.aborted" })
            : blocked
              ? transientError("not sent: an earlier message with the same key failed in this write (sent after it, to keep the order)", { code: "http.key_order" })
              : await send(messages[index] as Message, signal);
          if (error === undefined) continue;
          failures.push({ index, error });
          blocked = true;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, lanes.length) }, worker));
    failures.sort((a, b) => a.index - b.index);
    if (failures.length > 0) ctx.logger.debug({ failed: failures.length, of: messages.length }, "some HTTP requests failed");
    return { failures };
  }

  return {
    async write(messages, outer): Promise<WriteOutcome> {
      // One listener on the engine's signal per write; the requests listen to this one.
      const controller = new AbortController();
      setMaxListeners(concurrency * 2 + 10, controller.signal);
      const onAbort = (): void => controller.abort();
      if (outer.aborted) controller.abort();
      else outer.addEventListener("abort", onAbort, { once: true });
      try {
        return await writeAll(messages, controller.signal);
      } finally {
        outer.removeEventListener("abort", onAbort);
      }
    },
  };
}

/**
 * Indexes of the messages grouped so that messages with the same key are sent one after
 * another, in order; a message without a key is a lane of its own.
 */
function keyLanes(messages: readonly Message[]): number[][] {
  const lanes: number[][] = [];
  const byKey = new Map<string, number[]>();
  messages.forEach((message, index) => {
    if (message.key === undefined) {
      lanes.push([index]);
      return;
    }
    const lane = byKey.get(message.key);
    if (lane !== undefined) lane.push(index);
    else {
      const fresh = [index];
      byKey.set(message.key, fresh);
      lanes.push(fresh);
    }
  });
  return lanes;
}
