import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { PoolOptions } from "mysql2/promise";
import { configError } from "../../core/errors.js";
import type { MysqlConnectionConfig } from "./schema.js";

export interface ResolvedPoolOptions {
  options: PoolOptions;
  /** host:port/database, for health details and error messages (no credentials). */
  label: string;
  /** The password, to scrub from any error text. */
  password: string | undefined;
  /** Session time zone as MySQL wants it ("+00:00"). */
  timeZone: string;
}

/** mysql2 pool options from the connection block; `baseDir` resolves a relative `ssl.ca`. */
export function resolvePoolOptions(config: MysqlConnectionConfig, baseDir: string): ResolvedPoolOptions {
  const endpoint = config.url !== undefined ? parseUrl(config.url) : fromFields(config);
  const timeZone = config.timezone === undefined || config.timezone === "Z" ? "+00:00" : config.timezone;
  const options: PoolOptions = {
    ...endpoint,
    connectionLimit: config.pool_size ?? 10,
    waitForConnections: true,
    enableKeepAlive: true,
    connectTimeout: 10_000,
    // Exact values: DECIMAL as string, BIGINT as string beyond 2^53, DATETIME as the server's text.
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    dateStrings: true,
    timezone: config.timezone ?? "Z",
    charset: "utf8mb4_unicode_ci",
    // The server caps prepared statements across all sessions; multi-row INSERTs of many sizes would fill it.
    maxPreparedStatements: 64,
  };
  const ssl = sslOptions(config, baseDir);
  if (ssl !== undefined) options.ssl = ssl;
  const label = `${endpoint.host ?? "127.0.0.1"}:${endpoint.port ?? 3306}${endpoint.database === undefined ? "" : `/${endpoint.database}`}`;
  return { options, label, password: endpoint.password, timeZone };
}

type Endpoint = Pick<PoolOptions, "host" | "port" | "user" | "password" | "database">;

function fromFields(config: MysqlConnectionConfig): Endpoint {
  const endpoint: Endpoint = { host: config.host ?? "127.0.0.1", port: config.port ?? 3306 };
  if (config.user !== undefined) endpoint.user = config.user;
  if (config.password !== undefined) endpoint.password = config.password;
  if (config.database !== undefined) endpoint.database = config.database;
  return endpoint;
}

function parseUrl(url: string): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL holds the password: never echo it.
    throw configError("mysql connection: url is not a valid URL; write it as mysql://user:password@host:3306/database", { code: "config.mysql_url" });
  }
  if (parsed.protocol !== "mysql:" && parsed.protocol !== "mariadb:") {
    throw configError(`mysql connection: url must start with mysql:// or mariadb://, not ${parsed.protocol}//`, { code: "config.mysql_url" });
  }
  const endpoint: Endpoint = { host: parsed.hostname || "127.0.0.1", port: parsed.port === "" ? 3306 : Number(parsed.port) };
  if (parsed.username !== "") endpoint.user = decodeURIComponent(parsed.username);
  if (parsed.password !== "") endpoint.password = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database !== "") endpoint.database = database;
  return endpoint;
}

function sslOptions(config: MysqlConnectionConfig, baseDir: string): PoolOptions["ssl"] {
  const ssl = config.ssl;
  if (ssl === undefined || ssl.mode === "disable") return undefined;
  let ca: string | undefined;
  if (ssl.ca !== undefined) {
    const file = resolve(baseDir, ssl.ca);
    try {
      ca = readFileSync(file, "utf8");
    } catch (error) {
      throw configError(`mysql connection: cannot read ssl.ca ${file}: ${error instanceof Error ? error.message : String(error)}`, { code: "config.mysql_ssl", cause: error });
    }
  }
  return { rejectUnauthorized: ssl.mode === "verify-full", ...(ca === undefined ? {} : { ca }) };
}
