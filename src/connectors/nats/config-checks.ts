import type { ConfigIssue } from "../types.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import { serverList } from "./connection-options.js";
import type { NatsConnectionConfig, NatsSinkOptions, NatsSourceOptions } from "./schema.js";

const AT_MOST_ONCE_WHY =
  "core NATS (a subject without a stream) is at most once: the server drops a message when nobody is subscribed, and messages in flight are lost when the process dies";

const JETSTREAM_SOURCE_OPTIONS = ["consumer", "filter_subject", "ack_wait", "max_deliver", "max_ack_pending", "nak_delay", "dead_letter_subject"] as const;
const CORE_SOURCE_OPTIONS = ["queue", "max_pending"] as const;

export function connectionIssues(config: NatsConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.password !== undefined && config.user === undefined) issues.push({ path: ["password"], message: "password needs user" });
  if (config.user !== undefined && config.password === undefined) issues.push({ path: ["password"], message: "user needs password" });
  if (config.token !== undefined && config.user !== undefined) issues.push({ path: ["token"], message: "set either token or user/password, not both" });
  serverList(config).forEach((server, index) => {
    const path: Array<string | number> = typeof config.servers === "string" ? ["servers"] : ["servers", index];
    const parsed = parseServer(server);
    if (parsed === undefined) issues.push({ path, message: `"${server}" is not a server URL; expected e.g. "nats://127.0.0.1:4222"` });
    else if (parsed.username !== "" || parsed.password !== "") {
      issues.push({ path, message: "remove the credentials from the URL and set user/password or token (secret fields, redacted in logs)" });
    }
  });
  const names = new Set<string>();
  (config.streams ?? []).forEach((stream, index) => {
    if (names.has(stream.name)) issues.push({ path: ["streams", index, "name"], message: `stream "${stream.name}" is declared twice` });
    names.add(stream.name);
  });
  return issues;
}

export function sourceIssues(options: NatsSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.stream === undefined && options.subject === undefined) {
    issues.push({ path: [], message: "set stream (JetStream, at least once) or subject (core NATS, at most once)" });
  }
  if (options.stream !== undefined && options.subject !== undefined) {
    issues.push({ path: ["subject"], message: "set stream or subject, not both; to read some subjects of a stream, use filter_subject" });
  }
  if (options.subject !== undefined && options.stream === undefined) {
    if (options.at_most_once !== true) {
      issues.push({
        path: ["subject"],
        message: `${AT_MOST_ONCE_WHY}. Read a JetStream stream instead (declare one under the connection's streams with this subject and set stream:), or set at_most_once: true to accept losing messages`,
      });
    }
    for (const option of JETSTREAM_SOURCE_OPTIONS) {
      if (options[option] !== undefined) issues.push({ path: [option], message: `${option} is a JetStream option; it needs stream (not subject)` });
    }
  }
  if (options.stream !== undefined) {
    if (options.at_most_once !== undefined) issues.push({ path: ["at_most_once"], message: "at_most_once is only for core NATS subjects; a stream is read at least once" });
    for (const option of CORE_SOURCE_OPTIONS) {
      if (options[option] !== undefined) issues.push({ path: [option], message: `${option} is a core NATS option (with subject); with a stream, instances sharing the consumer share the messages` });
    }
  }
  issues.push(...templateIssues(options.key, ["key"]));
  return issues;
}

export function sinkIssues(options: NatsSinkOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.stream === undefined && options.at_most_once !== true) {
    issues.push({
      path: ["stream"],
      message: `${AT_MOST_ONCE_WHY}. Set stream: to the JetStream stream that stores the subject (each publish is then acknowledged and deduplicated), or set at_most_once: true to accept losing messages`,
    });
  }
  if (options.stream !== undefined && options.at_most_once === true) {
    issues.push({ path: ["at_most_once"], message: "at_most_once publishes on core NATS, without the stream: remove one of stream or at_most_once" });
  }
  issues.push(...templateIssues(options.subject, ["subject"]));
  for (const [name, value] of Object.entries(options.headers ?? {})) issues.push(...templateIssues(value, ["headers", name]));
  return issues;
}

function templateIssues(source: string | undefined, path: string[]): ConfigIssue[] {
  if (source === undefined) return [];
  const problem = MessageTemplate.problem(source);
  return problem === undefined ? [] : [{ path, message: problem }];
}

function parseServer(server: string): URL | undefined {
  try {
    return new URL(/^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`);
  } catch {
    return undefined;
  }
}
