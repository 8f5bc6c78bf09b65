import type { ConfigIssue, ConnectorSpec } from "../types.js";
import { identifierIssues, tableNameIssues } from "../shared/sql-identifier.js";
import { sqlTargetIssues } from "../shared/sql-target-checks.js";
import { MysqlDatabase } from "./database.js";
import { resolvePoolOptions } from "./pool-options.js";
import { MysqlConnectionSchema, MysqlSinkSchema, MysqlSourceSchema } from "./schema.js";
import type { MysqlConnectionConfig, MysqlSinkOptions, MysqlSourceOptions } from "./schema.js";
import { createMysqlSink } from "./sink.js";
import { createMysqlSource } from "./source.js";
import { asList, sourceOptionProblem } from "./source-query.js";

const EXAMPLE = `# connections:
shop_db:
  type: mysql
  url: \${MYSQL_URL}          # mysql://user:password@host:3306/shop
  # or: host: db.internal, port: 3306, user: junction, password: \${MYSQL_PASSWORD}, database: shop
  pool_size: 10
  ssl: { mode: verify-full, ca: ./certs/ca.pem }
  timezone: "Z"               # DATETIME/TIMESTAMP read and written as UTC

# integrations.<name>.source — incremental keyset sync on (updated_at, id):
#   source:
#     connection: shop_db
#     table: orders
#     key: id
#     cursor: updated_at
#     lag: 5s                   # leave rows of in-flight transactions for the next poll
#     where: "status <> 'draft'"   # trusted SQL, added to every read
#     batch_size: 1000
#
# integrations.<name>.target — idempotent upsert:
#   target:
#     connection: shop_db
#     table: orders_copy
#     key: id
#     mode: upsert
#     create_table: true
`;

export const mysqlConnector = {
  type: "mysql",
  summary: "MySQL / MariaDB: incremental keyset-cursor source and transactional multi-row append/upsert/merge/replace sink.",
  config: MysqlConnectionSchema,
  source: MysqlSourceSchema,
  sink: MysqlSinkSchema,
  example: EXAMPLE,
  check: {
    config: checkConfig,
    source: checkSource,
    sink: checkSink,
  },
  async connect(config, ctx) {
    const resolved = resolvePoolOptions(config, ctx.baseDir);
    const database = new MysqlDatabase(resolved);
    return {
      health: (_signal: AbortSignal) => database.health(),
      source: (options, sourceCtx) => createMysqlSource(database, options, sourceCtx, resolved.timeZone),
      sink: (options, sinkCtx) => createMysqlSink(database, options, sinkCtx, resolved.timeZone),
      close: () => database.close(),
    };
  },
} satisfies ConnectorSpec<typeof MysqlConnectionSchema, typeof MysqlSourceSchema, typeof MysqlSinkSchema>;

function checkConfig(config: MysqlConnectionConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const fields = (["host", "port", "user", "password", "database"] as const).filter((field) => config[field] !== undefined);
  if (config.url !== undefined && fields.length > 0) issues.push({ path: [fields[0] as string], message: `set url or ${fields.join("/")}, not both` });
  if (config.url === undefined && config.user === undefined) issues.push({ path: ["user"], message: "set url, or host/port/user/password/database" });
  if (config.url !== undefined && !/^(mysql|mariadb):\/\//.test(config.url)) issues.push({ path: ["url"], message: "url must start with mysql:// or mariadb://" });
  return issues;
}

function checkSource(options: MysqlSourceOptions): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const problem = sourceOptionProblem(options);
  if (problem !== undefined) issues.push({ path: [], message: problem });
  issues.push(...tableNameIssues(options.table, ["table"]));
  issues.push(...identifierIssues(options.columns, ["columns"], "column"));
  issues.push(...identifierIssues(asList(options.key), ["key"], "key column"));
  issues.push(...identifierIssues(asList(options.cursor), ["cursor"], "cursor column"));
  issues.push(...identifierIssues(options.soft_delete, ["soft_delete"], "soft_delete column"));
  return issues;
}

function checkSink(options: MysqlSinkOptions): ConfigIssue[] {
  const issues = sqlTargetIssues({ ...options, ...(options.key !== undefined ? { key: asList(options.key) } : {}) });
  if (options.create_table === true && options.mode === "upsert" && options.key === undefined) issues.splice(1, 0, { path: ["create_table"], message: "create_table with upsert needs key for the PRIMARY KEY" });
  return issues;
}
