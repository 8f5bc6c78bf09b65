import { configError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { MessageTemplate } from "../shared/events/message-template.js";
import type { ConfigIssue } from "../types.js";
import type { MqttSettings } from "./client-options.js";
import type { MqttConnectionConfig, MqttSinkOptions, MqttSourceOptions } from "./schema.js";
import { isSharedFilter, topicFilterProblem, topicNameProblem } from "./topic-names.js";

const URL_PROTOCOLS = new Set(["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"]);

const QOS0_SOURCE =
  "QoS 0 messages are never acknowledged: one being processed when the process stops or the connection drops is lost, and so is every message published while Junction is away. Use qos: 1 (at least once, the default) or 2, or set at_most_once: true to accept the loss";
const QOS0_SINK =
  "QoS 0 publishes are not acknowledged by the broker: a message is reported written without knowing the broker has it, and is lost if the connection drops. Use qos: 1 (the default) or 2, or set at_most_once: true to accept the loss";

export function checkConnection(config: MqttConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.url !== undefined) {
    let protocol: string | undefined;
    try {
      protocol = new URL(config.url).protocol;
    } catch {
      issues.push({ path: ["url"], message: 'not a URL; expected e.g. "mqtt://broker:1883" or "mqtts://broker:8883"' });
    }
    if (protocol !== undefined && !URL_PROTOCOLS.has(protocol)) {
      issues.push({ path: ["url"], message: `unsupported scheme "${protocol}"; use mqtt, mqtts, ws or wss` });
    }
  }
  if (config.protocol_version === 4 && config.session_expiry !== undefined) {
    issues.push({ path: ["session_expiry"], message: "session_expiry is an MQTT 5 setting; with protocol_version 4 the broker decides how long sessions last" });
  }
  return issues;
}

export function checkSource(options: MqttSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.qos === 0 && options.at_most_once !== true) issues.push({ path: ["qos"], message: QOS0_SOURCE });
  options.topics.forEach((topic, index) => {
    const problem = topicFilterProblem(topic);
    if (problem !== undefined) issues.push({ path: ["topics", index], message: problem });
    else if (options.shared_group !== undefined && isSharedFilter(topic)) {
      issues.push({ path: ["topics", index], message: "already a $share/ filter: with shared_group, list the plain topic filter" });
    }
  });
  if (options.key !== undefined) {
    const problem = MessageTemplate.problem(options.key);
    if (problem !== undefined) issues.push({ path: ["key"], message: problem });
  }
  return issues;
}

export function checkSink(options: MqttSinkOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.qos === 0 && options.at_most_once !== true) issues.push({ path: ["qos"], message: QOS0_SINK });
  const problem = MessageTemplate.problem(options.topic);
  if (problem !== undefined) issues.push({ path: ["topic"], message: problem });
  else {
    const text = MessageTemplate.parse(options.topic).staticText;
    const nameProblem = text === undefined ? undefined : topicNameProblem(text);
    if (nameProblem !== undefined) issues.push({ path: ["topic"], message: nameProblem });
  }
  return issues;
}

/** A source on a session that does not outlive a disconnect loses messages: only with at_most_once. */
export function sourceSessionError(settings: MqttSettings, options: MqttSourceOptions, connectionName: string): JunctionError | undefined {
  if (options.at_most_once === true) return undefined;
  const lossy = settings.clean ? "clean: true starts a fresh session on every connect" : settings.sessionExpiry === 0 ? "session_expiry: 0 ends the session at every disconnect" : undefined;
  if (lossy === undefined) return undefined;
  return configError(
    `connection "${connectionName}": ${lossy}, which drops the messages not acknowledged yet and those published while Junction is away; use clean: false (the default) with a session_expiry above 0, or set at_most_once: true on the source to accept the loss`,
    { code: "config.mqtt_session" },
  );
}

/** CloudEvents binary mode carries attributes in user properties, which MQTT 3.1.1 lacks. */
export function sinkProtocolError(settings: MqttSettings, options: MqttSinkOptions, connectionName: string): JunctionError | undefined {
  if (settings.protocolVersion !== 4 || options.cloudevents?.mode !== "binary") return undefined;
  return configError(`connection "${connectionName}" speaks MQTT 3.1.1, which has no user properties for CloudEvents binary mode; use cloudevents mode: structured, or protocol_version: 5`, {
    code: "config.mqtt_cloudevents_binary",
  });
}
