import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";
import { schemaChangeField } from "../shared/schema-change.js";

const columnList = (what: string) =>
  Type.Union([Type.String({ description: `${what} column.` }), Type.Array(Type.String({ description: `${what} column.` }), { minItems: 1 })], {
    description: `${what} column, or a list of columns.`,
  });

export const MysqlConnectionSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: "mysql://user:password@host:3306/database. Use either url or host/port/user/password/database. Redacted in logs and `config print`.",
      }),
    ),
    host: Type.Optional(Type.String({ minLength: 1, description: "Server host name or address (when url is not set).", default: "127.0.0.1" })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Server port (when url is not set).", default: 3306 })),
    user: Type.Optional(Type.String({ minLength: 1, description: "User name (when url is not set)." })),
    password: Type.Optional(Type.String({ secret: true, description: "Password (when url is not set). Redacted in logs and `config print`." })),
    database: Type.Optional(Type.String({ minLength: 1, description: "Default database: unqualified table names refer to it (when url is not set)." })),
    pool_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "Maximum open connections in the pool.", default: 10 })),
    ssl: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal("disable"), Type.Literal("require"), Type.Literal("verify-full")], {
            description: "disable: plain TCP. require: TLS without verifying the server certificate. verify-full: TLS, certificate and host name verified.",
          }),
          ca: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the certificate authority to trust; relative to the config file." })),
        },
        { additionalProperties: false, description: "TLS settings. Default: disable." },
      ),
    ),
    timezone: Type.Optional(
      Type.String({
        pattern: "^(Z|[+-]\\d{2}:\\d{2})$",
        description:
          'Session time zone: DATETIME and TIMESTAMP values are read and written in it ("Z" = UTC, or "+02:00"). Values are emitted as ISO-8601 strings with this offset.',
        default: "Z",
      }),
    ),
  },
  { additionalProperties: false, description: "A MySQL or MariaDB server (mysql2 connection pool)." },
);

export const MysqlSourceSchema = Type.Object(
  {
    table: Type.Optional(Type.String({ minLength: 1, description: 'Table to read, "table" or "database.table". Exactly one of table or query.' })),
    query: Type.Optional(
      Type.String({
        minLength: 1,
        description: "A SELECT (no trailing semicolon) to read instead of a table; it is wrapped as a subquery, so key, cursor and where refer to its output columns.",
      }),
    ),
    columns: Type.Optional(
      Type.Array(Type.String({ description: "Column name." }), { minItems: 1, description: "Columns to read (default: all). key and cursor columns are always read." }),
    ),
    where: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Extra SQL condition added to every read, e.g. \"status = 'active'\". Trusted config: it is inserted into the SQL as written.",
      }),
    ),
    key: columnList("Primary key"),
    cursor: Type.Optional(columnList("Cursor")),
    mode: Type.Optional(
      Type.Union([Type.Literal("full_refresh"), Type.Literal("incremental")], {
        description:
          "incremental: keyset cursor on (cursor…, key…), resumed from the checkpoint of the last acked row. full_refresh: every run reads the whole table paged by key. Default: incremental when cursor is set, else full_refresh.",
      }),
    ),
    lag: Type.Optional(
      durationField(
        "Incremental only: read only rows whose (first) cursor column is older than NOW() minus lag, so rows of transactions still in flight with an earlier timestamp are not skipped. The cursor must be a DATETIME or TIMESTAMP.",
      ),
    ),
    batch_size: Type.Optional(batchSizeField()),
    poll_interval: Type.Optional(durationField("With a continuous trigger, how long to wait for new rows once caught up.", "1s")),
    soft_delete: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Column that marks a row deleted (e.g. deleted_at, or a TINYINT(1) flag): a row where it is not NULL and not 0 is emitted with operation delete (the payload is still the full row), so a merge target deletes it. Always read.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Reads rows as messages, paged by a keyset (never OFFSET). Values are exact: DECIMAL as string, BIGINT as string beyond 2^53, DATETIME as ISO-8601, JSON as objects, binary as base64.",
  },
);

export const MysqlSinkSchema = Type.Object(
  {
    table: Type.String({ minLength: 1, description: 'Table to write, "table" or "database.table".' }),
    mode: Type.Optional(
      Type.Union([Type.Literal("append"), Type.Literal("upsert"), Type.Literal("merge"), Type.Literal("replace")], {
        description:
          "append: plain INSERT. upsert: INSERT … ON DUPLICATE KEY UPDATE, idempotent on replays (needs a PRIMARY KEY or UNIQUE index on key). merge: upsert, and a message whose operation is delete (CDC, soft_delete) deletes the row with its key, in the same transaction. replace: each run fills a fresh staging table (CREATE TABLE <table>__junction_staging LIKE <table>, upsert by key when key is set) and swaps it in with one RENAME TABLE when the run ends cleanly; a failed or stopped run leaves the target untouched. Needs a run that ends (trigger once or schedule). Append and upsert fail delete messages. Default: upsert when key is set, else append.",
      }),
    ),
    key: Type.Optional(columnList("Key")),
    columns: Type.Optional(
      Type.Array(Type.String({ description: "Column name." }), { minItems: 1, description: "Only these payload fields are written (default: every field of the payload)." }),
    ),
    create_table: Type.Optional(
      Type.Boolean({
        description:
          "Create the table when missing: with the source's declared column types when it has them (a database source: DECIMAL(p,s), DATETIME(6), UUID, LONGBLOB… and NOT NULL; a column comment carries types MySQL lacks, such as a zoned timestamp), else inferred from the first batch (BIGINT, DOUBLE, TINYINT(1), JSON, LONGTEXT, LONGBLOB; key columns VARCHAR(255)); PRIMARY KEY from key (else the source's key); utf8mb4.",
        default: false,
      }),
    ),
    on_schema_change: Type.Optional(schemaChangeField()),
  },
  { additionalProperties: false, description: "Writes each message payload (a flat object) as one row; multi-row INSERTs, one transaction per batch." },
);

export type MysqlConnectionConfig = Static<typeof MysqlConnectionSchema>;
export type MysqlSourceOptions = Static<typeof MysqlSourceSchema>;
export type MysqlSinkOptions = Static<typeof MysqlSinkSchema>;
