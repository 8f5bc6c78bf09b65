import { createPool } from "mysql2/promise";
import type { FieldPacket, Pool, PoolConnection } from "mysql2/promise";
import type { HealthResult } from "../../core/health.js";
import { mysqlFailure, mysqlReason } from "./mysql-errors.js";
import type { ResolvedPoolOptions } from "./pool-options.js";

export type MysqlParam = string | number | bigint | boolean | Buffer | null;
export type MysqlRow = Record<string, unknown>;

export interface MysqlResult {
  rows: MysqlRow[];
  fields: FieldPacket[];
}

interface CoreConnection {
  query(sql: string, values: unknown[], callback: (error: unknown) => void): unknown;
}

/**
 * One mysql2 pool per connection block. Every session is switched to the configured
 * time zone and to strict mode, so multi-row INSERTs reject bad values instead of
 * silently converting them.
 */
export class MysqlDatabase {
  readonly label: string;
  readonly #pool: Pool;
  readonly #password: string | undefined;

  constructor(resolved: ResolvedPoolOptions) {
    this.label = resolved.label;
    this.#password = resolved.password;
    this.#pool = createPool(resolved.options);
    this.#pool.on("connection", (connection: unknown) => {
      (connection as CoreConnection).query(
        "SET time_zone = ?, sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')",
        [resolved.timeZone],
        () => undefined, // a failure here surfaces on the session's next statement
      );
    });
  }

  /** Runs one parameterised statement (server-side prepared). */
  async execute(sql: string, params: readonly MysqlParam[] = []): Promise<MysqlResult> {
    const [rows, fields] = await this.#pool.execute(sql, params as MysqlParam[]);
    return { rows: Array.isArray(rows) ? (rows as MysqlRow[]) : [], fields: fields ?? [] };
  }

  connection(): Promise<PoolConnection> {
    return this.#pool.getConnection();
  }

  /** A JunctionError for a driver error, with the password scrubbed. */
  failure(error: unknown, what: string): ReturnType<typeof mysqlFailure> {
    return mysqlFailure(error, what, this.#password);
  }

  async health(): Promise<HealthResult> {
    const started = performance.now();
    try {
      await this.#pool.query("SELECT 1");
      return { status: "healthy", latencyMs: performance.now() - started, detail: this.label };
    } catch (error) {
      return { status: "unhealthy", latencyMs: performance.now() - started, detail: `${this.label}: ${mysqlReason(error, this.#password)}` };
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
