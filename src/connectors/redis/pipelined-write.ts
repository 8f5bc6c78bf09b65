import type { ChainableCommander } from "ioredis";
import { abortError } from "../../core/abort.js";
import { permanentError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { MessageFailure, WriteOutcome } from "../types.js";
import { failAll } from "../types.js";
import { redisError } from "./redis-errors.js";
import type { RedisServer } from "./redis-server.js";

export interface PipelinedCommand {
  /** What the command does, for error messages: "adding messages to the stream". */
  doing: string;
  /** Queues the message's command; a throw (a template without a value) fails that message alone, permanently. */
  queue(pipeline: ChainableCommander, message: Message): Promise<void>;
  /** Why a successful reply still means failure (e.g. no entry id), or undefined. */
  refuse?(reply: unknown): string | undefined;
}

export interface PipelinedOutcome extends WriteOutcome {
  /** The reply of every message whose command succeeded, by index. */
  replies: Map<number, unknown>;
}

/**
 * Sends one command per message in a single pipeline: a reply error fails that message
 * alone, a lost connection fails every queued one (transient).
 */
export async function writePipelined(server: RedisServer, messages: readonly Message[], signal: AbortSignal, command: PipelinedCommand): Promise<PipelinedOutcome> {
  if (signal.aborted) return { ...failAll(messages, abortError(signal)), replies: new Map() };
  const failures: MessageFailure[] = [];
  const replies = new Map<number, unknown>();
  const sent: number[] = [];
  const pipeline = server.commands.pipeline();
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as Message;
    try {
      await command.queue(pipeline, message);
      sent.push(index);
    } catch (error) {
      failures.push({ index, error: permanentError(`${command.doing}: message ${message.id}: ${(error as Error).message}`, { cause: error }) });
    }
  }
  if (sent.length === 0) return { failures, replies };
  let results: Array<[Error | null, unknown]> | null;
  try {
    results = await pipeline.exec();
  } catch (error) {
    const failed = redisError(error, command.doing);
    return { failures: [...failures, ...sent.map((index) => ({ index, error: failed }))].sort((a, b) => a.index - b.index), replies };
  }
  sent.forEach((index, at) => {
    const [error, reply] = results?.[at] ?? [new Error("no reply"), undefined];
    const refused = error ? undefined : command.refuse?.(reply);
    if (error) failures.push({ index, error: redisError(error, `${command.doing}: message ${(messages[index] as Message).id}`) });
    else if (refused !== undefined) failures.push({ index, error: redisError(new Error(refused), command.doing) });
    else replies.set(index, reply);
  });
  return { failures: failures.sort((a, b) => a.index - b.index), replies };
}
