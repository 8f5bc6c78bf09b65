import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ErrorWithReasonCode } from "mqtt";
import { defaultClientId } from "../../../src/connectors/mqtt/client-id.js";
import { mqttSettings } from "../../../src/connectors/mqtt/client-options.js";
import { mqttConnector } from "../../../src/connectors/mqtt/index.js";
import { mqttErrorKind } from "../../../src/connectors/mqtt/mqtt-errors.js";
import { subscriptionFilter, topicFilterProblem, topicNameProblem } from "../../../src/connectors/mqtt/topic-names.js";
import { findConnector } from "../../../src/connectors/registry.js";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";

const checks = mqttConnector.check;

describe("mqtt config", () => {
  test("is registered as type mqtt", () => {
    assert.equal(findConnector("mqtt"), mqttConnector);
  });

  test("QoS 0 needs at_most_once, on both ends, with a message that says what to use instead", () => {
    const [source] = checks.source({ topics: ["a/b"], qos: 0 });
    assert.deepEqual(source?.path, ["qos"]);
    assert.match(source?.message ?? "", /lost/);
    assert.match(source?.message ?? "", /qos: 1/);
    assert.match(source?.message ?? "", /at_most_once: true/);
    assert.deepEqual(checks.source({ topics: ["a/b"], qos: 0, at_most_once: true }), []);
    const [sink] = checks.sink({ topic: "a/b", qos: 0 });
    assert.deepEqual(sink?.path, ["qos"]);
    assert.match(sink?.message ?? "", /at_most_once: true/);
    assert.deepEqual(checks.sink({ topic: "a/b", qos: 0, at_most_once: true }), []);
    assert.deepEqual(checks.source({ topics: ["a/b"] }), []);
  });

  test("topic filters, shared groups, templates and topic names are checked", () => {
    assert.deepEqual(
      checks.source({ topics: ["ok/+/x", "bad#", "a/b+/c", "$share/g/t"], shared_group: "g", key: "{{ id" }).map((i) => i.path),
      [["topics", 1], ["topics", 2], ["topics", 3], ["key"]],
    );
    assert.deepEqual(checks.sink({ topic: "orders/{{ region }}" }), []);
    assert.deepEqual(checks.sink({ topic: "orders/#" }).map((i) => i.path), [["topic"]]);
    assert.deepEqual(checks.sink({ topic: "orders/{{ }}" }).map((i) => i.path), [["topic"]]);
    assert.equal(topicFilterProblem("a/#"), undefined);
    assert.equal(topicFilterProblem("+"), undefined);
    assert.match(topicFilterProblem("a/#/b") ?? "", /last/);
    assert.match(topicNameProblem("a/+") ?? "", /wildcard/);
    assert.equal(subscriptionFilter("orders/#", "workers"), "$share/workers/orders/#");
    assert.equal(subscriptionFilter("orders/#", undefined), "orders/#");
  });

  test("connection checks: URL scheme and session_expiry only with MQTT 5", () => {
    assert.deepEqual(checks.config({ url: "mqtts://broker:8883" }), []);
    assert.deepEqual(checks.config({ url: "http://broker" }).map((i) => i.path), [["url"]]);
    assert.deepEqual(checks.config({ url: "not a url" }).map((i) => i.path), [["url"]]);
    assert.deepEqual(checks.config({ protocol_version: 4, session_expiry: "1h" }).map((i) => i.path), [["session_expiry"]]);
  });

  test("settings: a stable default client id, a persistent session that never expires, Receive Maximum", () => {
    const settings = mqttSettings({}, "orders");
    assert.equal(settings.clientId, defaultClientId("orders"));
    assert.equal(mqttSettings({}, "orders").clientId, settings.clientId, "the same on every start");
    assert.equal(settings.clean, false);
    assert.equal(settings.protocolVersion, 5);
    assert.equal(settings.url, "mqtt://127.0.0.1:1883");
    assert.deepEqual(settings.options.properties, { sessionExpiryInterval: 0xffffffff, receiveMaximum: 1000 });
    assert.equal(mqttSettings({ session_expiry: "2h" }, "x").sessionExpiry, 7200);
    assert.equal(mqttSettings({ protocol_version: 4 }, "x").options.properties, undefined);
    assert.equal(mqttSettings({ keepalive: "30s" }, "x").options.keepalive, 30);
    assert.equal(mqttSettings({ url: "mqtt://user:pw@broker:1883" }, "x").broker, "broker:1883");
    assert.equal(mqttSettings({ url: "wss://broker.example/mqtt" }, "x").broker, "broker.example/mqtt");
  });

  test("default client ids: host and connection, only safe characters, long ones shortened but unique", () => {
    assert.equal(defaultClientId("orders in", "host.example"), "junction-host_example-orders_in");
    const long = defaultClientId("x".repeat(100), "host");
    const other = defaultClientId(`${"x".repeat(99)}y`, "host");
    assert.ok(long.length <= 64);
    assert.notEqual(long, other);
  });

  test("error kinds: refused credentials are auth, bad requests permanent, the rest transient", () => {
    assert.equal(mqttErrorKind(new ErrorWithReasonCode("Connection refused: Not authorized", 135)), "auth");
    assert.equal(mqttErrorKind(new ErrorWithReasonCode("Connection refused: Bad username or password", 4)), "auth");
    assert.equal(mqttErrorKind(new ErrorWithReasonCode("Publish error: Topic Name invalid", 144)), "permanent");
    assert.equal(mqttErrorKind(new ErrorWithReasonCode("Publish error: Quota exceeded", 151)), "transient");
    assert.equal(mqttErrorKind(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })), "transient");
    assert.equal(mqttErrorKind(new Error("Connection closed")), "transient");
  });

  test("a junction.yaml with an mqtt source and target validates; QoS 0 without at_most_once does not", async () => {
    const yaml = (qos: number) => `version: 1
connections:
  broker: { type: mqtt, url: "mqtt://127.0.0.1:1883", client_id: orders-consumer }
  out: { type: mqtt, protocol_version: 4 }
integrations:
  relay:
    source: { connection: broker, topics: ["orders/+/created"], qos: ${qos}, shared_group: writers }
    target: { connection: out, topic: "copies/{{ region }}", retain: true }
    sync: { trigger: continuous }
`;
    await loadConfigFromString(yaml(1), join(process.cwd(), "mqtt-ok.yaml"), builtinComponents, { env: {} });
    await assert.rejects(loadConfigFromString(yaml(0), join(process.cwd(), "mqtt-qos0.yaml"), builtinComponents, { env: {} }), /at_most_once/);
  });
});
