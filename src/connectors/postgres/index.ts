import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { identifierIssues, tableNameIssues } from "../shared/sql-identifier.js";
import { sqlTargetIssues } from "../shared/sql-target-checks.js";
import { PostgresDatabase } from "./database.js";
import { PostgresConnectionSchema, PostgresSinkSchema, PostgresSourceSchema, columnNames } from "./schema.js";
import type { PostgresConnectionConfig, PostgresSinkOptions, PostgresSourceOptions } from "./schema.js";
import { createPostgresSink } from "./sink.js";
import { createPostgresSource } from "./source.js";
import { cdcSourceIssues } from "./cdc/cdc-config-checks.js";
import { createPostgresCdcSource } from "./cdc/cdc-source.js";
import { replicationClientConfig } from "./cdc/replication-client-config.js";

const EXAMPLE = `# connections:
app_pg:
  type: postgres
  url: \${DATABASE_URL}        # or host / port / user / password / database
  schema: public               # schema of unqualified table names
  pool_size: 10
  # ssl: { mode: verify-full, ca: ./certs/ca.pem }
  # statement_timeout: 30s

# integrations.<name>.source — incremental keyset sync on (updated_at, id):
#   source:
#     connection: app_pg
#     table: users
#     key: id
#     cursor: updated_at
#     lag: 5s                        # skip rows changed in the last 5s (commits in flight)
#     where: "deleted_at IS NULL"    # trusted SQL, added to every read
#     batch_size: 1000
#
# integrations.<name>.source — change data capture (wal_level = logical):
#   source:
#     connection: app_pg
#     table: users
#     key: id
#     mode: cdc                      # inserts, updates and deletes in commit order
#     # slot: junction_users_sync    # default junction_<integration>; drop it when removing the integration
#
# integrations.<name>.target — idempotent upsert through COPY:
#   target:
#     connection: app_pg
#     table: users_copy
#     key: id
#     mode: upsert
#     create_table: true
`;

export const postgresConnector = {
  type: "postgres",
  summary: "PostgreSQL: incremental keyset-cursor and change-data-capture (logical replication) sources, and a COPY-based append/upsert/merge/replace sink, with per-row failure reporting.",
  config: PostgresConnectionSchema,
  source: PostgresSourceSchema,
  sink: PostgresSinkSchema,
  example: EXAMPLE,
  check: {
    config: checkConfig,
    source: checkSource,
    sink: checkSink,
  },
  async connect(config, ctx) {
    const database = new PostgresDatabase(ctx.name, config, ctx.baseDir, ctx.logger);
    return {
      health: async (_signal: AbortSignal) => database.health(),
      source: (options, sourceCtx) =>
        options.mode === "cdc"
          ? createPostgresCdcSource(database, replicationClientConfig(config, ctx.baseDir), options, sourceCtx)
          : createPostgresSource(database, options, sourceCtx),
      sink: (options, sinkCtx) => createPostgresSink(database, options, sinkCtx),
      close: () => database.close(),
    };
  },
} satisfies ConnectorSpec<typeof PostgresConnectionSchema, typeof PostgresSourceSchema, typeof PostgresSinkSchema>;

function checkConfig(config: PostgresConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const parts = (["host", "port", "user", "password", "database"] as const).filter((field) => config[field] !== undefined);
  if (config.url === undefined && config.host === undefined) issues.push({ path: [], message: "set url, or host (with port, user, password, database)" });
  if (config.url !== undefined && parts.length > 0) issues.push({ path: [parts[0] as string], message: "set either url or host/port/user/password/database, not both" });
  if (config.ssl?.ca !== undefined && config.ssl.mode !== "verify-full") issues.push({ path: ["ssl", "ca"], message: "ca is only used with ssl mode verify-full" });
  issues.push(...identifierIssues(config.schema, ["schema"], "schema"));
  return issues;
}

function checkSource(options: PostgresSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.table === undefined && options.query === undefined) issues.push({ path: [], message: "set table or query" });
  if (options.table !== undefined && options.query !== undefined) issues.push({ path: ["query"], message: "set table or query, not both" });
  if (options.query !== undefined && options.query.trim().endsWith(";")) issues.push({ path: ["query"], message: "remove the trailing semicolon: the query is wrapped as a subquery" });
  const cursor = columnNames(options.cursor);
  const mode = options.mode ?? (cursor.length > 0 ? "incremental" : "full_refresh");
  if (mode === "incremental" && cursor.length === 0) issues.push({ path: ["cursor"], message: "mode incremental needs cursor (a column that grows when a row changes, e.g. updated_at)" });
  if (mode === "full_refresh" && cursor.length > 0) issues.push({ path: ["cursor"], message: "cursor is only used by mode incremental; remove it or set mode: incremental" });
  if (mode === "full_refresh" && options.lag !== undefined) issues.push({ path: ["lag"], message: "lag is only used by mode incremental" });
  issues.push(...cdcSourceIssues(options, mode));
  issues.push(...tableNameIssues(options.table, ["table"]));
  issues.push(...identifierIssues(options.columns, ["columns"], "column"));
  issues.push(...identifierIssues(options.key, ["key"], "key column"));
  issues.push(...identifierIssues(options.cursor, ["cursor"], "cursor column"));
  issues.push(...identifierIssues(options.soft_delete, ["soft_delete"], "soft_delete column"));
  if (mode === "cdc" && options.soft_delete !== undefined) {
    issues.push({ path: ["soft_delete"], message: "soft_delete is for full_refresh and incremental reads; mode cdc emits deletes as they happen: remove soft_delete" });
  }
  return issues;
}

function checkSink(options: PostgresSinkOptions): ConfigIssue[] {
  return sqlTargetIssues(options);
}
