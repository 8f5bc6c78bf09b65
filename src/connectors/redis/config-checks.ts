import type { ConfigIssue } from "../types.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { RedisSinkOptions, RedisSourceOptions } from "./schema.js";

const STREAM_SOURCE_OPTIONS = ["group", "start", "consumer", "block", "claim_idle", "max_deliveries", "dead_letter_stream"] as const;

function atMostOnceIssue(kind: "channel" | "pattern", reading: boolean): ConfigIssue {
  const what = reading
    ? "Redis pub/sub delivers a message only to subscribers connected at that moment and keeps no copy: messages published while this integration is stopped, restarting or disconnected are lost, and a failed write cannot be retried later"
    : "Redis pub/sub keeps no copy: a message is lost when no subscriber is connected at that moment, and a subscriber that fails cannot get it again";
  return {
    path: [kind],
    message: `${what}. Set at_most_once: true to accept that, or use a stream (stream: <name>) for at-least-once delivery.`,
  };
}

export function sourceIssues(options: RedisSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const modes = (["stream", "channel", "pattern"] as const).filter((name) => options[name] !== undefined);
  if (modes.length !== 1) {
    issues.push({ path: modes.length === 0 ? [] : [modes[1] as string], message: "set exactly one of stream (consumer group, at least once), channel or pattern (pub/sub, at most once)" });
    return issues;
  }
  const mode = modes[0] as "stream" | "channel" | "pattern";
  const keyProblem = options.key === undefined ? undefined : MessageTemplate.problem(options.key);
  if (keyProblem !== undefined) issues.push({ path: ["key"], message: keyProblem });
  if (mode === "stream") {
    if (options.at_most_once !== undefined) issues.push({ path: ["at_most_once"], message: "streams are read at least once; at_most_once only applies to channel and pattern" });
    if (options.max_buffered !== undefined) issues.push({ path: ["max_buffered"], message: "max_buffered only applies to channel and pattern (a stream is read as it is pulled)" });
    if (options.dead_letter_stream !== undefined && options.dead_letter_stream === options.stream) {
      issues.push({ path: ["dead_letter_stream"], message: "the dead-letter stream must not be the stream being read" });
    }
    return issues;
  }
  if (options.at_most_once !== true) issues.push(atMostOnceIssue(mode, true));
  for (const name of STREAM_SOURCE_OPTIONS) {
    if (options[name] !== undefined) issues.push({ path: [name], message: `${name} only applies to a stream source, not to pub/sub ${mode}` });
  }
  return issues;
}

export function sinkIssues(options: RedisSinkOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if ((options.stream === undefined) === (options.channel === undefined)) {
    issues.push({ path: options.stream === undefined ? [] : ["channel"], message: "set exactly one of stream (XADD, at least once) or channel (PUBLISH, at most once)" });
    return issues;
  }
  const field = options.stream === undefined ? "channel" : "stream";
  const problem = MessageTemplate.problem((options.stream ?? options.channel) as string);
  if (problem !== undefined) issues.push({ path: [field], message: problem });
  if (field === "stream") {
    if (options.at_most_once !== undefined) issues.push({ path: ["at_most_once"], message: "adds to a stream are confirmed; at_most_once only applies to channel" });
    return issues;
  }
  if (options.at_most_once !== true) issues.push(atMostOnceIssue("channel", false));
  if (options.max_len !== undefined) issues.push({ path: ["max_len"], message: "max_len only applies to a stream target" });
  if (options.cloudevents?.mode === "binary") {
    issues.push({ path: ["cloudevents", "mode"], message: "pub/sub messages carry no headers for binary-mode attributes; use mode: structured" });
  }
  return issues;
}
