import type { Logger } from "pino";
import type { PoolClient } from "pg";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { POSTGRES_DATABASE_IDENTITY_SQL } from "../../state/postgres/database-identity.js";
import { planRowChanges } from "../shared/collapse-by-key.js";
import { ColocatedCheckpoint } from "../shared/colocated-checkpoint.js";
import type { RowChangeOptions } from "../shared/collapse-by-key.js";
import { parseTableName, quoteIdentifier } from "../shared/sql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, SinkRunStart, WriteOptions, WriteOutcome } from "../types.js";
import type { PostgresDatabase } from "./database.js";
import { deleteByKey } from "./merge-deletes.js";
import { isRowLevelPostgresError, postgresFailure } from "./postgres-errors.js";
import { PostgresReplaceStaging } from "./replace-staging.js";
import { GroupCopier } from "./group-copy.js";
import { groupRows } from "./row-groups.js";
import type { RowGroup } from "./row-groups.js";
import { columnKind, keyIdentity, payloadFields, toPostgresText } from "./row-values.js";
import { columnNames } from "./schema.js";
import type { PostgresSinkOptions } from "./schema.js";
import { PostgresTargetColumns } from "./target-columns.js";

interface PendingRow {
  index: number;
  fields: Map<string, unknown>;
}


const TARGET_COLUMNS_SQL = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
  WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

export function createPostgresSink(database: PostgresDatabase, options: PostgresSinkOptions, ctx: SinkContext): Sink {
  const checkpoint = new ColocatedCheckpoint(ctx.sharedCheckpoints, async () => {
    const result = await database.query<{ identity: string }>(POSTGRES_DATABASE_IDENTITY_SQL);
    return result.rows[0]?.identity;
  });
  return new PostgresSink(database, options, ctx.logger, checkpoint);
}

class PostgresSink implements Sink {
  readonly #database: PostgresDatabase;
  readonly #label: string;
  /** `"schema"."table"`, validated; the staging table while a replace run is open. */
  #table: string;
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #changes: RowChangeOptions;
  readonly #replace: PostgresReplaceStaging | undefined;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  /** Column name → SQL type of the target, read on first write. */
  #columns: Map<string, string> | undefined;
  /** Creates the table, applies on_schema_change and caches the columns. */
  readonly #target: PostgresTargetColumns;
  /** COPYs each group, straight into the table when it can (see GroupCopier). */
  readonly #copier: GroupCopier;

  /** Commits the checkpoint with the rows when the target database is also the state store's. */
  readonly #checkpoint: ColocatedCheckpoint;

  constructor(database: PostgresDatabase, options: PostgresSinkOptions, logger: Logger, checkpoint: ColocatedCheckpoint) {
    this.#database = database;
    this.#checkpoint = checkpoint;
    this.#label = options.table;
    const table = parseTableName(options.table);
    this.#table = `${quoteIdentifier(table.schema ?? database.schema, "schema")}.${quoteIdentifier(table.table, "table")}`;
    this.#keys = columnNames(options.key);
    for (const key of this.#keys) quoteIdentifier(key, "key column");
    const mode = options.mode ?? (this.#keys.length > 0 ? "upsert" : "append");
    if ((mode === "upsert" || mode === "merge") && this.#keys.length === 0) {
      throw configError(`postgres target ${options.table}: mode ${mode} needs key (the column or columns of a PRIMARY KEY or UNIQUE constraint)`, { code: "config.postgres_sink" });
    }
    // replace writes its staging table like upsert when there is a key (a retried batch is harmless), like append otherwise.
    this.#upsert = mode !== "append" && this.#keys.length > 0;
    this.#changes = { keys: this.#keys, mode, appliesDeletes: this.#upsert && mode !== "upsert", what: `postgres target ${options.table}`, system: "postgres" };
    this.#replace = mode === "replace" ? new PostgresReplaceStaging(database, table.schema ?? database.schema, table.table, `postgres target ${options.table}`) : undefined;
    this.#createTable = options.create_table ?? false;
    if (options.columns !== undefined) for (const column of options.columns) quoteIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
    this.#copier = new GroupCopier(this.#keys, this.#upsert);
    this.#target = new PostgresTargetColumns(database, {
      what: `postgres target ${options.table}`,
      keys: this.#keys,
      createTable: this.#createTable,
      only: this.#only,
      policy: options.on_schema_change ?? "fail",
      logger,
    });
  }

  get #what(): string {
    return `postgres target ${this.#label}`;
  }

  /** replace: a fresh staging table receives this run's writes. */
  async begin(run: SinkRunStart, _signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined) return this.#beginTarget(run);
    const targetExists = await this.#replace.prepare();
    if (!targetExists && !this.#createTable) {
      throw configError(`${this.#what}: table ${this.#replace.target} does not exist; create it, check the schema option, or set create_table: true`, { code: "postgres.no_such_table" });
    }
    this.#table = this.#replace.staging;
    this.#columns = undefined;
    await this.#beginTarget(run);
  }

  /** Creates the missing table from the source's declared columns, or checks the table against them (on_schema_change). */
  async #beginTarget(run: SinkRunStart): Promise<void> {
    try {
      await this.#target.begin(this.#table, run.schema);
    } catch (error) {
      throw postgresFailure(error, this.#what);
    }
  }

  /** replace: the run ended cleanly, the staging table becomes the target. */
  async complete(_signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined || this.#table !== this.#replace.staging) return;
    await this.#replace.swap();
    this.#table = this.#replace.target;
    this.#columns = undefined;
  }

  async write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("postgres write cancelled by shutdown", { code: "postgres.aborted" }));
    const changes = planRowChanges(messages, this.#changes);
    const failures: MessageFailure[] = changes.failures;
    const rows = this.#rowsOf(messages, failures, changes.skipped);
    const deletes = changes.deletes;
    if (rows.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };

    let columns: Map<string, string>;
    try {
      // Deletes alone never create the table: with create_table, a missing table has nothing to delete.
      columns = rows.length === 0 && this.#createTable ? await this.#readColumns() : await this.#targetColumns(rows);
    } catch (error) {
      return this.#failRows([...rows, ...deletes], failures, postgresFailure(error, this.#what));
    }
    if (columns.size === 0) return { failures: sortByIndex(failures) };
    const groups = this.#group(rows, columns, failures);
    if (groups.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };
    const writing = [...deletes, ...groups.flatMap((group) => group.rows)];

    let client: PoolClient;
    try {
      client = await this.#database.client();
    } catch (error) {
      return this.#failRows(writing, failures, postgresFailure(error, this.#what));
    }
    let broken: Error | undefined;
    const rejected: MessageFailure[] = [];
    try {
      await client.query("BEGIN");
      rejected.push(...(await deleteByKey(client, { table: this.#table, keys: this.#keys, kinds: this.#keys.map((key) => columnKind(columns.get(key) ?? "text")), what: this.#what }, deletes)));
      for (const [number, group] of groups.entries()) rejected.push(...(await this.#writeGroup(client, group, number)));
      const checkpoint = await this.#checkpoint.statement(options, failures.length + rejected.length);
      if (checkpoint !== undefined) await client.query(checkpoint.sql, checkpoint.params);
      await client.query("COMMIT");
      failures.push(...rejected);
      if (checkpoint !== undefined) return { failures: [], checkpointed: true };
    } catch (error) {
      broken = await rollbackQuietly(client, error);
      const failure = postgresFailure(error, this.#what);
      if (failure.kind === "config") {
        this.#columns = undefined;
        this.#target.forget();
      }
      return this.#failRows(writing, failures, failure);
    } finally {
      client.release(broken);
    }
    return { failures: sortByIndex(failures) };
  }

  /** Validates payloads and collapses duplicate keys to the last copy; `skipped` (deletes, superseded rows) are left out. */
  #rowsOf(messages: Message[], failures: MessageFailure[], skipped: ReadonlySet<number>): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
      if (skipped.has(index)) return;
      const converted = payloadFields(message.payload, this.#only);
      if (!converted.ok) {
        failures.push({ index, error: converted.error });
        return;
      }
      const row: PendingRow = { index, fields: converted.fields };
      if (this.#keys.length === 0) {
        rows.push(row);
        return;
      }
      const keyText = this.#keys.map((key) => toPostgresText(row.fields.get(key), "other"));
      const missing = this.#keys.find((_, at) => keyText[at] === null);
      if (missing !== undefined) {
        if (this.#upsert) {
          failures.push({ index, error: permanentError(`payload has no value for key column ${missing}; every row written by upsert needs its key`, { code: "postgres.bad_payload" }) });
        } else rows.push(row);
        return;
      }
      const identity = keyIdentity(keyText);
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  /** The table's columns, created and evolved as configured; fields dropped by on_schema_change: freeze leave `rows`. */
  async #targetColumns(rows: PendingRow[]): Promise<Map<string, string>> {
    this.#columns = await this.#target.columnsFor(this.#table, rows);
    return this.#columns;
  }

  async #readColumns(): Promise<Map<string, string>> {
    const result = await this.#database.query<{ name: string; type: string }>(TARGET_COLUMNS_SQL, [this.#table]);
    return new Map(result.rows.map((row) => [row.name, row.type]));
  }

  /** Rows grouped by their column set, values as PostgreSQL text; a field the table lacks fails its message. */
  #group(rows: readonly PendingRow[], columns: ReadonlyMap<string, string>, failures: MessageFailure[]): RowGroup[] {
    const unknownColumn = (name: string): JunctionError =>
      permanentError(`${this.#what}: column ${name} does not exist in ${this.#table}; add the column or drop the field with a transform`, { code: "postgres.unknown_column" });
    return groupRows(rows, columns, unknownColumn, failures);
  }

  /**
   * One COPY, straight into the table or into a staging table and then one INSERT … SELECT
   * (GroupCopier). When a row breaks a constraint or a datatype rule, the group is re-run
   * row by row under savepoints: only the bad rows fail.
   */
  async #writeGroup(client: PoolClient, group: RowGroup, number: number): Promise<MessageFailure[]> {
    const stage = `"junction_stage_${number}"`;
    const columns = group.columns.map((column) => quoteIdentifier(column)).join(", ");
    await client.query("SAVEPOINT junction_group");
    try {
      await this.#copier.write(client, { table: this.#table, columns: group.columns, conflict: this.#conflictClause(group.columns), stage, savepoint: "junction_group" }, group.rows);
      await client.query("RELEASE SAVEPOINT junction_group");
      return [];
    } catch (error) {
      if (!isRowLevelPostgresError(error)) throw error;
      await client.query("ROLLBACK TO SAVEPOINT junction_group");
    }
    const failures: MessageFailure[] = [];
    const insert = `INSERT INTO ${this.#table} (${columns}) VALUES (${group.columns.map((_, at) => `$${at + 1}`).join(", ")})${this.#conflictClause(group.columns)}`;
    for (const row of group.rows) {
      await client.query("SAVEPOINT junction_row");
      try {
        await client.query(insert, row.values);
        await client.query("RELEASE SAVEPOINT junction_row");
      } catch (error) {
        if (!isRowLevelPostgresError(error)) throw error;
        await client.query("ROLLBACK TO SAVEPOINT junction_row");
        await client.query("RELEASE SAVEPOINT junction_row");
        failures.push({ index: row.index, error: postgresFailure(error, this.#what) });
      }
    }
    await client.query("RELEASE SAVEPOINT junction_group");
    return failures;
  }

  #conflictClause(columns: readonly string[]): string {
    if (!this.#upsert) return "";
    const conflict = this.#keys.map((key) => quoteIdentifier(key, "key column")).join(", ");
    const updates = columns.filter((column) => !this.#keys.includes(column)).map((column) => `${quoteIdentifier(column)} = EXCLUDED.${quoteIdentifier(column)}`);
    return updates.length === 0 ? ` ON CONFLICT (${conflict}) DO NOTHING` : ` ON CONFLICT (${conflict}) DO UPDATE SET ${updates.join(", ")}`;
  }

  #failRows(rows: ReadonlyArray<{ index: number }>, failures: MessageFailure[], error: JunctionError): WriteOutcome {
    for (const row of rows) failures.push({ index: row.index, error });
    return { failures: sortByIndex(failures) };
  }
}

function sortByIndex(failures: MessageFailure[]): MessageFailure[] {
  return failures.sort((a, b) => a.index - b.index);
}

/**
 * Rolls back whatever is open. Returns the error to release the client with when the
 * connection itself is suspect (so the pool discards it), undefined when it is reusable.
 */
async function rollbackQuietly(client: PoolClient, cause: unknown): Promise<Error | undefined> {
  try {
    await client.query("ROLLBACK");
    return undefined;
  } catch {
    return cause instanceof Error ? cause : new Error(String(cause));
  }
}
