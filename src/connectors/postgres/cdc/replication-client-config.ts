import type { ClientConfig } from "pg";
import { poolConfig } from "../database.js";
import type { PostgresConnectionConfig } from "../schema.js";

/**
 * The connection settings of the pool, for the one replication connection of a cdc source:
 * same server, credentials, TLS and session settings (TimeZone=UTC, DateStyle=ISO,
 * bytea_output=hex make the decoded text match what the keyset source reads), without
 * the pool's size and statement timeout.
 */
export function replicationClientConfig(config: PostgresConnectionConfig, baseDir: string): ClientConfig {
  const { max: _max, statement_timeout: _timeout, ...client } = poolConfig(config, baseDir);
  return client;
}
