import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { durationField } from "../shared/config-fields.js";
import { bodyFormatField, cloudEventsField, keyField } from "../shared/events/event-fields.js";

export const DEFAULT_URL = "mqtt://127.0.0.1:1883";
export const DEFAULT_MAX_IN_FLIGHT = 1000;

const qosField = (what: string) =>
  Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], {
    description: `${what} 1 (at least once, the default) or 2 (exactly once between client and broker). 0 (fire and forget) needs at_most_once: true.`,
    default: 1,
  });

const atMostOnceField = Type.Boolean({
  description: "Accept losing messages: required for qos 0, whose messages are never acknowledged and are lost when the process stops or the connection drops.",
  default: false,
});

export const MqttConnectionSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: `Broker URL, "mqtt://host:1883", "mqtts://host:8883", "ws://host/mqtt" or "wss://…"; may hold "user:password@". Redacted like a password. Default "${DEFAULT_URL}".`,
        default: DEFAULT_URL,
      }),
    ),
    client_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description:
          'Client identifier, the name of the broker-side session that keeps subscriptions and queued messages while Junction is down. Default "junction-<host name>-<connection name>", stable across restarts. Two processes must never share one: set it (e.g. from ${HOSTNAME}) when running several instances on one host.',
      }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, description: "User name (instead of the url's)." })),
    password: Type.Optional(Type.String({ secret: true, description: "Password (instead of the url's). Redacted in logs and `config print`." })),
    protocol_version: Type.Optional(
      Type.Union([Type.Literal(4), Type.Literal(5)], {
        description: "5 (MQTT 5, the default: user properties carry headers, CloudEvents binary mode, Receive Maximum) or 4 (MQTT 3.1.1: no headers).",
        default: 5,
      }),
    ),
    clean: Type.Optional(
      Type.Boolean({
        description:
          "false (the default): a persistent session: the broker keeps subscriptions and queues messages while the client is away, and redelivers unacknowledged ones. true: a fresh session on every connect, which loses them (sources then need at_most_once: true).",
        default: false,
      }),
    ),
    session_expiry: Type.Optional(
      Type.Union([Type.Literal("never"), durationField("A duration.")], {
        description:
          'MQTT 5: how long the broker keeps the session (and queues messages) after a disconnect, a duration or "never" (the default, like MQTT 3.1.1 sessions). 0 ends the session at every disconnect, which loses messages.',
        default: "never",
      }),
    ),
    keepalive: Type.Optional(durationField("Ping interval; the connection counts as lost after 1.5 times this without traffic. Whole seconds; 0 turns pings off.", "60s")),
    reconnect_period: Type.Optional(durationField("Wait between reconnection attempts after the connection dropped.", "1s")),
    connect_timeout: Type.Optional(
      durationField("How long to wait for the broker's CONNACK; also how long a source or a write waits for a lost connection to come back before failing (transient).", "30s"),
    ),
    max_in_flight: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        description:
          "Most messages received and not yet acknowledged. MQTT 5 sends it as Receive Maximum, so the broker sends no more until some are acknowledged; with MQTT 3.1.1 the broker's own limit applies (Mosquitto: max_inflight_messages, default 20). Keep it at least the integration's batch_size.",
        default: DEFAULT_MAX_IN_FLIGHT,
      }),
    ),
  },
  { additionalProperties: false, description: "An MQTT broker (3.1.1 or 5), through one client whose persistent session survives restarts." },
);

export const MqttSourceSchema = Type.Object(
  {
    topics: Type.Array(Type.String({ minLength: 1, description: "Topic filter, may use the + and # wildcards." }), {
      minItems: 1,
      description: 'Topic filters to subscribe to, e.g. ["orders/+/created", "payments/#"]. The subscriptions stay in the session: removing a filter here does not unsubscribe it.',
    }),
    qos: Type.Optional(qosField("Subscription QoS, the highest the broker uses to deliver:")),
    at_most_once: Type.Optional(atMostOnceField),
    shared_group: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: "^[^/+#]+$",
        description: "Subscribe as $share/<group>/<topic>: every instance subscribed with the same group and a different client_id gets a share of the messages (competing consumers).",
      }),
    ),
    key: Type.Optional(keyField),
    format: Type.Optional(bodyFormatField),
    idle_timeout: Type.Optional(
      durationField("With a once or scheduled trigger: the run ends when no message arrived (and none is waiting to be acknowledged) for this long.", "1s"),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Subscribes and hands messages over in batches; each message is acknowledged (PUBACK, or PUBREC for QoS 2) only once it is written or dead-lettered. Unacknowledged messages come again after a reconnect or restart.",
  },
);

export const MqttSinkSchema = Type.Object(
  {
    topic: Type.String({ minLength: 1, description: "Topic to publish to, a template: e.g. `orders/{{ region }}/created` (no wildcards)." }),
    qos: Type.Optional(qosField("Publish QoS: a write succeeds once the broker acknowledged it (PUBACK, or PUBCOMP for QoS 2).")),
    at_most_once: Type.Optional(atMostOnceField),
    retain: Type.Optional(Type.Boolean({ description: "Publish as retained messages: the broker keeps the last one per topic for new subscribers.", default: false })),
    format: Type.Optional(bodyFormatField),
    cloudevents: Type.Optional(cloudEventsField),
  },
  {
    additionalProperties: false,
    description:
      "Publishes each message; MQTT 5 adds user properties (message-id, x-correlation-id, traceparent, CloudEvents attributes in binary mode) and the content type. MQTT 3.1.1 has no headers: use cloudevents structured mode to carry them in the body.",
  },
);

export type MqttConnectionConfig = Static<typeof MqttConnectionSchema>;
export type MqttSourceOptions = Static<typeof MqttSourceSchema>;
export type MqttSinkOptions = Static<typeof MqttSinkSchema>;
