import { once } from "node:events";
import type { Writable } from "node:stream";
import { permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, WriteOutcome } from "../types.js";
import type { StdoutSinkOptions } from "./schema.js";

/** Writes payloads as JSON to a stream, waiting for 'drain' when the stream's buffer is full. */
export function createStreamSink(stream: Writable, options: StdoutSinkOptions): Sink {
  const indent = options.format === "pretty" ? 2 : undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function writeAll(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    const failures: MessageFailure[] = [];
    let text = "";
    messages.forEach((message, index) => {
      try {
        const json = JSON.stringify(message.payload, null, indent);
        if (json === undefined) throw new Error("payload is undefined");
        text += json + "\n";
      } catch (error) {
        failures.push({ index, error: permanentError(`payload cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`, { code: "stdout.bad_payload" }) });
      }
    });
    if (text.length === 0) return { failures };
    try {
      if (!stream.write(text)) await once(stream, "drain", { signal });
    } catch (error) {
      const failure = transientError(`writing to the output stream failed: ${error instanceof Error ? error.message : String(error)}`, { code: "stdout.write_failed", cause: error });
      const failed = new Set(failures.map((f) => f.index));
      return { failures: [...failures, ...messages.flatMap((_, index) => (failed.has(index) ? [] : [{ index, error: failure }]))].sort((a, b) => a.index - b.index) };
    }
    return { failures };
  }

  return {
    write(messages, signal) {
      const result = queue.then(() => (signal.aborted ? failAll(messages, transientError("write cancelled by shutdown", { code: "stdout.aborted" })) : writeAll(messages, signal)));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
