import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { durationMs } from "../shared/config-fields.js";
import { DEFAULT_SERVER } from "./schema.js";
import type { NatsConnectionConfig } from "./schema.js";

/** The server list of a connection block. */
export function serverList(config: NatsConnectionConfig): string[] {
  const servers = config.servers ?? DEFAULT_SERVER;
  return typeof servers === "string" ? [servers] : [...servers];
}

/**
 * nats.js options: reconnect for as long as it takes (the Connection lives as long as the
 * runtime; sources turn a disconnection into a transient error and start again), the
 * first attempt bounded by connect_timeout.
 */
export function connectionOptions(config: NatsConnectionConfig, connectionName: string): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: serverList(config),
    name: config.name ?? `junction-${connectionName}`,
    timeout: durationMs(config.connect_timeout, 10_000),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    pingInterval: 20_000,
  };
  if (config.user !== undefined) options.user = config.user;
  if (config.password !== undefined) options.pass = config.password;
  if (config.token !== undefined) options.token = config.token;
  return options;
}
