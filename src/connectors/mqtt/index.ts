import type { ConnectorSpec } from "../types.js";
import { mqttSettings } from "./client-options.js";
import { checkConnection, checkSink, checkSource } from "./config-checks.js";
import { MqttConnection } from "./connection.js";
import { MqttConnectionSchema, MqttSinkSchema, MqttSourceSchema } from "./schema.js";

const EXAMPLE = `# connections:
broker:
  type: mqtt
  url: mqtt://broker.internal:1883     # mqtts://… for TLS; may hold user:password@
  # username: junction
  # password: \${MQTT_PASSWORD}
  # client_id: orders-consumer         # default junction-<host>-<connection>: names the persistent session
  protocol_version: 5                  # 4 for MQTT 3.1.1 brokers (no headers)
  clean: false                         # persistent session: messages wait while Junction is down
  session_expiry: never                # MQTT 5: how long the broker keeps the session
  max_in_flight: 1000                  # unacknowledged messages the broker may send (>= batch_size)

# integrations.<name>.source — at least once: acknowledged after the write:
#   source:
#     connection: broker
#     topics: ["orders/+/created"]
#     qos: 1                           # 0 only with at_most_once: true
#     shared_group: order-writers      # $share/order-writers/…: instances split the messages
#     key: "{{ order_id }}"
#
# integrations.<name>.target — resolved once the broker acknowledged (PUBACK/PUBCOMP):
#   target:
#     connection: broker
#     topic: "orders/{{ region }}/accepted"
#     qos: 1
#     retain: false
#     cloudevents: { mode: binary }    # attributes as MQTT 5 user properties
`;

export const mqttConnector = {
  type: "mqtt",
  summary:
    "MQTT 3.1.1/5 broker (Mosquitto, EMQX, HiveMQ…): a subscriber on a persistent session that acknowledges each message only after it is written, shared subscriptions for competing consumers, and a publisher that waits for PUBACK/PUBCOMP.",
  config: MqttConnectionSchema,
  source: MqttSourceSchema,
  sink: MqttSinkSchema,
  example: EXAMPLE,
  check: { config: checkConnection, source: checkSource, sink: checkSink },
  async connect(config, ctx) {
    return new MqttConnection(mqttSettings(config, ctx.name), ctx);
  },
} satisfies ConnectorSpec<typeof MqttConnectionSchema, typeof MqttSourceSchema, typeof MqttSinkSchema>;
