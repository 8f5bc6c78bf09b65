import { resolve } from "node:path";
import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { identifierIssues, tableNameIssues } from "../shared/sql-identifier.js";
import { sqlTargetIssues } from "../shared/sql-target-checks.js";
import { durationMs } from "../shared/config-fields.js";
import { SqliteDatabase } from "./database.js";
import { SqliteConnectionSchema, SqliteSinkSchema, SqliteSourceSchema } from "./schema.js";
import type { SqliteSinkOptions, SqliteSourceOptions } from "./schema.js";
import { createSqliteSink } from "./sink.js";
import { createSqliteSource } from "./source.js";

const EXAMPLE = `# connections:
app_db:
  type: sqlite
  path: ./data/app.db        # relative to this config file
  busy_timeout: 5s           # wait this long for locks before a transient error
  # readonly: true           # source only; the file must exist

# integrations.<name>.source — incremental keyset sync on (updated_at, id):
#   source:
#     connection: app_db
#     table: users
#     key: id
#     cursor: updated_at
#     where: "deleted_at IS NULL"   # trusted SQL, added to every read
#     batch_size: 500
#
# integrations.<name>.target — idempotent upsert:
#   target:
#     connection: app_db
#     table: users_copy
#     key: id
#     mode: upsert
#     create_table: true
`;

export const sqliteConnector = {
  type: "sqlite",
  summary: "SQLite database file: incremental keyset-cursor source and transactional insert/upsert/merge/replace sink.",
  config: SqliteConnectionSchema,
  source: SqliteSourceSchema,
  sink: SqliteSinkSchema,
  example: EXAMPLE,
  check: {
    source: checkSource,
    sink: checkSink,
  },
  async connect(config, ctx) {
    const database = new SqliteDatabase(config.path === ":memory:" ? config.path : resolve(ctx.baseDir, config.path), {
      readonly: config.readonly ?? false,
      busyTimeoutMs: durationMs(config.busy_timeout, 5000),
    });
    return {
      async health(_signal: AbortSignal) {
        return database.health();
      },
      source: (options, sourceCtx) => createSqliteSource(database, options, sourceCtx),
      sink: (options, sinkCtx) => createSqliteSink(database, options, sinkCtx),
      async close() {
        database.close();
      },
    };
  },
} satisfies ConnectorSpec<typeof SqliteConnectionSchema, typeof SqliteSourceSchema, typeof SqliteSinkSchema>;

function checkSource(options: SqliteSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (options.table === undefined && options.query === undefined) issues.push({ path: [], message: "set table or query" });
  if (options.table !== undefined && options.query !== undefined) issues.push({ path: ["query"], message: "set table or query, not both" });
  if (options.query !== undefined && options.query.trim().endsWith(";")) issues.push({ path: ["query"], message: "remove the trailing semicolon: the query is wrapped as a subquery" });
  if (options.query !== undefined && options.key === undefined) issues.push({ path: ["key"], message: "a query needs key (the column to page by)" });
  if (options.cursor !== undefined && options.key === undefined) {
    issues.push({ path: ["key"], message: "cursor needs key: the primary key column that orders rows sharing one cursor value" });
  }
  issues.push(...tableNameIssues(options.table, ["table"]));
  issues.push(...identifierIssues(options.columns, ["columns"], "column"));
  issues.push(...identifierIssues(options.key, ["key"], "key column"));
  issues.push(...identifierIssues(options.cursor, ["cursor"], "cursor column"));
  issues.push(...identifierIssues(options.soft_delete, ["soft_delete"], "soft_delete column"));
  return issues;
}

function checkSink(options: SqliteSinkOptions): ConfigIssue[] {
  return sqlTargetIssues(options);
}
