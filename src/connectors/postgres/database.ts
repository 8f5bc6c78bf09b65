import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import pg from "pg";
import type { Pool, PoolClient, PoolConfig, QueryResult, QueryResultRow } from "pg";
import type { Logger } from "pino";
import { configError } from "../../core/errors.js";
import type { HealthResult } from "../../core/health.js";
import { REDACTED } from "../../core/redact.js";
import { durationMs } from "../shared/config-fields.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import { postgresFailure } from "./postgres-errors.js";
import type { PostgresConnectionConfig } from "./schema.js";
import { junctionTypes } from "./value-parsers.js";

const CONNECT_TIMEOUT_MS = 10_000;

/** The pool of one `connections.<name>` block, shared by every source and target using it. */
export class PostgresDatabase {
  readonly name: string;
  /** Schema of unqualified table names. */
  readonly schema: string;
  readonly #pool: Pool;
  readonly #secrets: string[];
  readonly #onPoolError: (error: Error) => void;

  constructor(name: string, config: PostgresConnectionConfig, baseDir: string, logger: Logger) {
    this.name = name;
    this.schema = config.schema ?? "public";
    this.#secrets = [config.url, config.password].filter((secret): secret is string => secret !== undefined && secret.length > 0);
    if (config.url !== undefined) {
      const password = passwordOf(config.url);
      if (password !== undefined) this.#secrets.push(password, encodeURIComponent(password));
    }
    this.#pool = new pg.Pool(poolConfig(config, baseDir));
    // An idle client losing its server emits here; without a listener the process would crash.
    this.#onPoolError = (error) => logger.warn({ connection: name, err: this.redact(error.message) }, "postgres: an idle connection failed; the pool replaces it");
    this.#pool.on("error", this.#onPoolError);
  }

  async query<R extends QueryResultRow = QueryResultRow>(sql: string, values: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.#pool.query<R>(sql, values as unknown[]);
  }

  /**
   * A client for a transaction; `client.release(error?)` gives it back (with an error: the
   * pool discards it). pg-pool takes its own 'error' listener off a client it hands out:
   * without the one added here, the server dropping the connection between two statements
   * would be an uncaught 'error' event that ends the process. The statement in progress, or
   * the next one, fails with the connection error, and the caller handles that.
   */
  async client(): Promise<PoolClient> {
    const client = await this.#pool.connect();
    const ignore = (): void => undefined;
    client.on("error", ignore);
    const release = client.release;
    client.release = (destroy?: Error | boolean): void => {
      client.removeListener("error", ignore);
      release(destroy);
    };
    return client;
  }

  async health(): Promise<HealthResult> {
    const started = performance.now();
    try {
      await this.#pool.query("select 1");
      return { status: "healthy", latencyMs: performance.now() - started, detail: `connection ${this.name}` };
    } catch (error) {
      const failure = postgresFailure(error, `postgres connection ${this.name}`);
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: this.redact(failure.message) };
    }
  }

  /** `text` without the url or password of this connection. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join(REDACTED);
    return out;
  }

  async close(): Promise<void> {
    this.#pool.off("error", this.#onPoolError);
    // A late idle-client error after close must not crash the process.
    this.#pool.on("error", () => undefined);
    await this.#pool.end();
  }
}

/** The node-postgres settings of a connection block (also used for the replication connection of a cdc source). */
export function poolConfig(config: PostgresConnectionConfig, baseDir: string): PoolConfig {
  const schema = config.schema ?? "public";
  const pool: PoolConfig = {
    max: config.pool_size ?? 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: config.application_name ?? "junction",
    types: junctionTypes,
    // UTC and ISO make timestamp text (payloads, checkpoints, verbatim COPY lines) the same on
    // every server; hex bytea is what the base64 conversion expects; extra_float_digits=3
    // makes floats exact on servers before 12 (later ones are exact with any value above 0).
    options: `-c search_path=${quoteIdentifier(schema, "schema")} -c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex -c extra_float_digits=3`,
  };
  if (config.statement_timeout !== undefined) pool.statement_timeout = durationMs(config.statement_timeout, 0);
  if (config.url !== undefined) pool.connectionString = config.url;
  else {
    if (config.host !== undefined) pool.host = config.host;
    pool.port = config.port ?? 5432;
    if (config.user !== undefined) pool.user = config.user;
    if (config.password !== undefined) pool.password = config.password;
    if (config.database !== undefined) pool.database = config.database;
  }
  if (config.ssl !== undefined) pool.ssl = sslConfig(config.ssl, baseDir);
  return pool;
}

function sslConfig(ssl: NonNullable<PostgresConnectionConfig["ssl"]>, baseDir: string): PoolConfig["ssl"] {
  if (ssl.mode === "disable") return false;
  if (ssl.mode === "require") return { rejectUnauthorized: false };
  if (ssl.ca === undefined) return { rejectUnauthorized: true };
  const file = resolve(baseDir, ssl.ca);
  try {
    return { rejectUnauthorized: true, ca: readFileSync(file, "utf8") };
  } catch (error) {
    throw configError(`postgres ssl.ca: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}; point ca at a PEM file`, {
      code: "config.postgres_ssl",
      cause: error,
    });
  }
}

function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
