// Shared setup for the mysql connector tests: a connection block for the local MariaDB,
// uniquely named tables (so test files can run in parallel) and an admin pool to seed them.
import { randomBytes } from "node:crypto";
import { createPool } from "mysql2/promise";
import type { Pool } from "mysql2/promise";
import { mysqlConnector } from "../../../src/connectors/mysql/index.js";
import type { MysqlConnectionConfig, MysqlSinkOptions, MysqlSourceOptions } from "../../../src/connectors/mysql/schema.js";
import type { Connection, Sink, Source, SourceContext } from "../../../src/connectors/types.js";
import { runtimeContext, sinkContext, sourceContext } from "../connector-context.js";

export type MysqlConnection = Connection<MysqlSourceOptions, MysqlSinkOptions>;

export const MARIADB_CONFIG: MysqlConnectionConfig = { host: "127.0.0.1", port: 3306, user: "root", password: "", database: "test" };

export class MysqlFixture {
  readonly admin: Pool = createPool({ ...MARIADB_CONFIG, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, timezone: "Z", connectionLimit: 2 });
  readonly #tables: string[] = [];
  readonly #connections: MysqlConnection[] = [];
  readonly #prefix = `jx_${randomBytes(4).toString("hex")}`;

  /** A table name unique to this fixture; dropped by `cleanup`. */
  table(name: string): string {
    const table = `${this.#prefix}_${name}`;
    this.#tables.push(table);
    return table;
  }

  async sql(statement: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
    const [rows] = await this.admin.query(statement, params);
    return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
  }

  async connect(config: MysqlConnectionConfig = MARIADB_CONFIG): Promise<MysqlConnection> {
    const connection = await mysqlConnector.connect(config, runtimeContext(process.cwd()));
    this.#connections.push(connection);
    return connection;
  }

  source(connection: MysqlConnection, options: MysqlSourceOptions, ctx: SourceContext = sourceContext()): Source {
    return (connection.source as NonNullable<MysqlConnection["source"]>)(options, ctx);
  }

  sink(connection: MysqlConnection, options: MysqlSinkOptions): Sink {
    return (connection.sink as NonNullable<MysqlConnection["sink"]>)(options, sinkContext);
  }

  async cleanup(): Promise<void> {
    for (const connection of this.#connections) await connection.close();
    for (const table of this.#tables) await this.admin.query(`DROP TABLE IF EXISTS \`${table}\``);
    await this.admin.end();
  }
}
