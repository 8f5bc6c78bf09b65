import { Type } from "@sinclair/typebox";
import type { Static } from "@sinclair/typebox";
import { batchSizeField, durationField } from "../shared/config-fields.js";
import { schemaChangeField } from "../shared/schema-change.js";

export const SqliteConnectionSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "Database file. Relative paths resolve against the directory of the config file. Created when missing (unless readonly).",
    }),
    busy_timeout: Type.Optional(
      durationField("How long a statement waits for a lock held by another connection before failing with SQLITE_BUSY (a transient error, retried).", "5s"),
    ),
    readonly: Type.Optional(
      Type.Boolean({ description: "Open the database read-only: it can only be a source and the file must exist. Writable connections use WAL mode.", default: false }),
    ),
  },
  { additionalProperties: false, description: "An SQLite database file (embedded: node:sqlite on Node >= 22.13, better-sqlite3 before)." },
);

export const SqliteSourceSchema = Type.Object(
  {
    table: Type.Optional(Type.String({ minLength: 1, description: 'Table to read, "table" or "schema.table". Exactly one of table or query.' })),
    query: Type.Optional(
      Type.String({
        minLength: 1,
        description: "A SELECT (no trailing semicolon) to read instead of a table; it is wrapped as a subquery, so key, cursor and where refer to its output columns. Requires key.",
      }),
    ),
    columns: Type.Optional(
      Type.Array(Type.String({ description: "Column name." }), {
        minItems: 1,
        description: "Columns to read (default: all). key and cursor are always read.",
      }),
    ),
    where: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Extra SQL condition added to every read, e.g. \"status = 'active'\". Trusted config: it is inserted into the SQL as written.",
      }),
    ),
    key: Type.Optional(
      Type.String({
        description: "Primary key column: the message key, the tie-breaker of the cursor and the paging column. Required with cursor or query.",
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        description:
          "Column that grows when a row changes (e.g. updated_at or a version). Enables incremental sync: a keyset cursor on (cursor, key) checkpointed after each acked batch, so a run reads only rows changed since the last row written. Rows whose cursor is NULL are skipped.",
      }),
    ),
    batch_size: Type.Optional(batchSizeField()),
    poll_interval: Type.Optional(durationField("With a continuous trigger, how long to wait for new rows once caught up.", "1s")),
    soft_delete: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Column that marks a row deleted (e.g. deleted_at, or a 0/1 flag): a row where it is not NULL and not 0 is emitted with operation delete (the payload is still the full row), so a merge target deletes it. Always read.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Reads rows as messages. With cursor: incremental, resumes from the checkpoint. With key only: every run reads the whole table paged by key (no checkpoint). With neither: every run reads the whole table in rowid order.",
  },
);

export const SqliteSinkSchema = Type.Object(
  {
    table: Type.String({ minLength: 1, description: 'Table to write, "table" or "schema.table".' }),
    mode: Type.Optional(
      Type.Union([Type.Literal("insert"), Type.Literal("upsert"), Type.Literal("merge"), Type.Literal("replace")], {
        description:
          "insert: plain INSERT. upsert: INSERT … ON CONFLICT (key) DO UPDATE, idempotent on replays. merge: upsert, and a message whose operation is delete (CDC, soft_delete) deletes the row with its key, in the same transaction. replace: each run fills a fresh staging table (<table>__junction_staging, created from the target's own CREATE TABLE; upsert by key when key is set) and swaps it in (drop and rename, one transaction) when the run ends cleanly; a failed or stopped run leaves the target untouched. Needs a run that ends (trigger once or schedule). Insert and upsert fail delete messages. Default: upsert when key is set, else insert.",
      }),
    ),
    key: Type.Optional(
      Type.Union([Type.String({ description: "Key column." }), Type.Array(Type.String({ description: "Key column." }), { minItems: 1 })], {
        description: "Key column or columns (a PRIMARY KEY or UNIQUE constraint). Required for upsert and merge; duplicates inside one batch collapse to the last.",
      }),
    ),
    create_table: Type.Optional(
      Type.Boolean({
        description:
          "Create the table when missing: with the source's declared column types when it has them (a database source: exact decimals and date-times as DECIMAL_TEXT(p,s), TIMESTAMPTZ_TEXT… with TEXT affinity, BIGINT, BOOLEAN, BLOB, JSON_TEXT; NOT NULL), else inferred from the first batch (INTEGER, REAL, TEXT; objects and arrays as JSON text); PRIMARY KEY from key (else the source's key).",
        default: false,
      }),
    ),
    on_schema_change: Type.Optional(schemaChangeField()),
    columns: Type.Optional(
      Type.Array(Type.String({ description: "Column name." }), {
        minItems: 1,
        description: "Only these payload fields are written (default: every field of the payload).",
      }),
    ),
  },
  { additionalProperties: false, description: "Writes each message payload (a flat object) as one row; one transaction per batch." },
);

export type SqliteConnectionConfig = Static<typeof SqliteConnectionSchema>;
export type SqliteSourceOptions = Static<typeof SqliteSourceSchema>;
export type SqliteSinkOptions = Static<typeof SqliteSinkSchema>;
