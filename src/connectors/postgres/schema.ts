import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";
import { schemaChangeField } from "../shared/schema-change.js";

const columnList = (description: string) =>
  Type.Union([Type.String({ description: "Column name." }), Type.Array(Type.String({ description: "Column name." }), { minItems: 1 })], { description });

export const PostgresConnectionSchema = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: 'Connection URL, "postgres://user:password@host:5432/database". Use either url or host/port/user/password/database. Redacted like a password.',
      }),
    ),
    host: Type.Optional(Type.String({ minLength: 1, description: "Server host name or address (when url is not set)." })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: "Server port (when url is not set).", default: 5432 })),
    user: Type.Optional(Type.String({ minLength: 1, description: "User name (when url is not set)." })),
    password: Type.Optional(Type.String({ secret: true, description: "Password (when url is not set). Redacted in logs and `config print`." })),
    database: Type.Optional(Type.String({ minLength: 1, description: "Database name (when url is not set)." })),
    schema: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Schema of unqualified table names, and the search_path of the session (so a source query sees it first). Default "public".',
        default: "public",
      }),
    ),
    pool_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "Most connections open at once in this connection's pool.", default: 10 })),
    ssl: Type.Optional(
      Type.Object(
        {
          mode: Type.Union([Type.Literal("disable"), Type.Literal("require"), Type.Literal("verify-full")], {
            description: "disable: plain TCP. require: TLS without checking the certificate. verify-full: TLS, certificate and host name checked.",
          }),
          ca: Type.Optional(Type.String({ minLength: 1, description: "PEM file of the certificate authority to trust (verify-full); relative to the config file." })),
        },
        { additionalProperties: false, description: "TLS settings. Default: no TLS (or what the url says)." },
      ),
    ),
    statement_timeout: Type.Optional(durationField("Server-side limit on each statement; a statement cut off by it fails as a transient error.")),
    application_name: Type.Optional(
      Type.String({ minLength: 1, description: "Shown in pg_stat_activity, to tell Junction's sessions apart.", default: "junction" }),
    ),
  },
  { additionalProperties: false, description: "A PostgreSQL database, reached through a connection pool (node-postgres)." },
);

export const PostgresSourceSchema = Type.Object(
  {
    table: Type.Optional(Type.String({ minLength: 1, description: 'Table to read, "table" (in the connection\'s schema) or "schema.table". Exactly one of table or query.' })),
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
    key: columnList("Unique key column or columns: the message key, the paging order and the tie-breaker of the cursor. Required."),
    cursor: Type.Optional(
      columnList(
        "Column or columns that grow when a row changes (updated_at, then e.g. a version). Incremental sync reads with a keyset cursor on (cursor…, key…) checkpointed after each acked batch. Rows with a NULL cursor are skipped.",
      ),
    ),
    mode: Type.Optional(
      Type.Union([Type.Literal("full_refresh"), Type.Literal("incremental"), Type.Literal("cdc")], {
        description:
          "incremental: resume after the last acked row (needs cursor). full_refresh: read the whole table paged by key on every run. cdc: stream every insert, update and delete of table through logical replication (needs wal_level = logical; see publication and slot). Default: incremental when cursor is set.",
      }),
    ),
    lag: Type.Optional(
      durationField(
        "Incremental only: read only rows whose first cursor column (a timestamp) is at least this old (cursor <= now() - lag), leaving time for transactions still in flight to commit.",
      ),
    ),
    batch_size: Type.Optional(batchSizeField()),
    poll_interval: Type.Optional(durationField("With a continuous trigger, how long to wait for new rows once caught up.", "1s")),
    soft_delete: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Column that marks a row deleted (e.g. deleted_at): a row where it is not NULL, false or 0 is emitted with operation delete (the payload is still the full row), so a merge target deletes it. Always read.",
      }),
    ),
    publication: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'cdc only: the publication to read (lower-case letters, digits, underscores). Created for table when missing; an existing one is used as it is and must publish table. Default "junction_<integration>".',
      }),
    ),
    slot: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'cdc only: the logical replication slot (pgoutput) that keeps this integration\'s position on the server (lower-case letters, digits, underscores). Created when missing. It retains WAL until acknowledged: drop it when the integration is removed. Default "junction_<integration>".',
      }),
    ),
    heartbeat_interval: Type.Optional(
      durationField("cdc only: how often to send the server a status update with the last acknowledged position, which keeps the connection alive and lets the slot release WAL.", "10s"),
    ),
  },
  {
    additionalProperties: false,
    description: "Reads rows as messages in keyset pages (no OFFSET, bounded memory), each read with COPY and handed out batch_size rows at a time.",
  },
);

export const PostgresSinkSchema = Type.Object(
  {
    table: Type.String({ minLength: 1, description: 'Table to write, "table" (in the connection\'s schema) or "schema.table".' }),
    mode: Type.Optional(
      Type.Union([Type.Literal("append"), Type.Literal("upsert"), Type.Literal("merge"), Type.Literal("replace")], {
        description:
          "append: plain INSERT. upsert: INSERT … ON CONFLICT (key) DO UPDATE, idempotent on replays. merge: upsert, and a message whose operation is delete (CDC, soft_delete) deletes the row with its key, in the same transaction. replace: each run fills a fresh staging table (<table>__junction_staging, upsert by key when key is set) and swaps it in by rename when the run ends cleanly; a failed or stopped run leaves the target untouched. Needs a run that ends (trigger once or schedule). Append and upsert fail delete messages. Default: upsert when key is set, else append.",
      }),
    ),
    key: Type.Optional(columnList("Key column or columns of a PRIMARY KEY or UNIQUE constraint. Required for upsert and merge; duplicates inside one batch collapse to the last.")),
    columns: Type.Optional(
      Type.Array(Type.String({ description: "Column name." }), { minItems: 1, description: "Only these payload fields are written (default: every field of the payload)." }),
    ),
    create_table: Type.Optional(
      Type.Boolean({
        description:
          "Create the table when missing: with the source's declared column types when it has them (a database source: numeric(p,s), timestamptz, uuid, bytea… and NOT NULL), else inferred from the first batch (bigint, double precision, boolean, text, jsonb for objects and arrays); PRIMARY KEY from key (else the source's key).",
        default: false,
      }),
    ),
    on_schema_change: Type.Optional(schemaChangeField()),
  },
  { additionalProperties: false, description: "Writes each message payload (a flat object) as one row: per batch, one COPY into a staging table and one INSERT … SELECT, or one COPY straight into the table while its rows are new to it and the table allows it (no rules, user triggers or GENERATED ALWAYS identity)." },
);

export type PostgresConnectionConfig = Static<typeof PostgresConnectionSchema>;
export type PostgresSourceOptions = Static<typeof PostgresSourceSchema>;
export type PostgresSinkOptions = Static<typeof PostgresSinkSchema>;

/** A column option written as one name or a list. */
export function columnNames(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}
