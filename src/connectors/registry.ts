import type { AnyConnectorSpec } from "./types.js";
import { amqpConnector } from "./amqp/index.js";
import { discardConnector } from "./discard/index.js";
import { fileConnector } from "./file/index.js";
import { generateConnector } from "./generate/index.js";
import { httpConnector } from "./http/index.js";
import { httpServerConnector } from "./http_server/index.js";
import { mqttConnector } from "./mqtt/index.js";
import { mysqlConnector } from "./mysql/index.js";
import { natsConnector } from "./nats/index.js";
import { postgresConnector } from "./postgres/index.js";
import { redisConnector } from "./redis/index.js";
import { sqliteConnector } from "./sqlite/index.js";
import { stdoutConnector } from "./stdout/index.js";

/** Every built-in connector. A new connector is one folder plus one line here. */
export const connectorSpecs: readonly AnyConnectorSpec[] = Object.freeze<AnyConnectorSpec[]>([
  sqliteConnector,
  postgresConnector,
  mysqlConnector,
  fileConnector,
  httpServerConnector,
  httpConnector,
  redisConnector,
  amqpConnector,
  natsConnector,
  mqttConnector,
  generateConnector,
  stdoutConnector,
  discardConnector,
]);

const byType = new Map(connectorSpecs.map((spec) => [spec.type, spec]));

export function findConnector(type: string): AnyConnectorSpec | undefined {
  return byType.get(type);
}

export function connectorTypes(): string[] {
  return connectorSpecs.map((spec) => spec.type);
}
