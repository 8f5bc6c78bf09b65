// A throwaway schema in the test PostgreSQL database per test file, plus helpers to drive
// the postgres connector against it.
import pg from "pg";
import { postgresConnector } from "../../../src/connectors/postgres/index.js";
import type { PostgresConnectionConfig, PostgresSinkOptions, PostgresSourceOptions } from "../../../src/connectors/postgres/schema.js";
import type { Connection, Sink, Source, SourceContext } from "../../../src/connectors/types.js";
import { postgresTestUrl } from "../../support/services.js";
import { runtimeContext, sinkContext, sourceContext } from "../connector-context.js";

export type PostgresConnection = Connection<PostgresSourceOptions, PostgresSinkOptions>;

export class PostgresFixture {
  readonly schema: string;
  readonly admin: pg.Pool;
  readonly #connections: PostgresConnection[] = [];

  constructor(label: string) {
    this.schema = `junction_test_${label}_${process.pid}_${Date.now().toString(36)}`;
    this.admin = new pg.Pool({ connectionString: postgresTestUrl(), max: 2, options: `-c search_path=${this.schema}` });
  }

  async setUp(): Promise<void> {
    await this.admin.query(`CREATE SCHEMA "${this.schema}"`);
  }

  async tearDown(): Promise<void> {
    for (const connection of this.#connections) await connection.close();
    await this.admin.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.admin.end();
  }

  async sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.admin.query<R>(text, values)).rows;
  }

  async connect(extra: Partial<PostgresConnectionConfig> = {}): Promise<PostgresConnection> {
    const connection = await postgresConnector.connect({ url: postgresTestUrl(), schema: this.schema, ...extra }, runtimeContext(process.cwd()));
    this.#connections.push(connection);
    return connection;
  }

  source(connection: PostgresConnection, options: PostgresSourceOptions, ctx: SourceContext = sourceContext()): Source {
    return (connection.source as NonNullable<PostgresConnection["source"]>)(options, ctx);
  }

  sink(connection: PostgresConnection, options: PostgresSinkOptions): Sink {
    return (connection.sink as NonNullable<PostgresConnection["sink"]>)(options, sinkContext);
  }
}
