import { sqliteDatabaseIdentity } from "../../state/sqlite/database-identity.js";
import type { SqliteStatement } from "../../state/sqlite/sqlite-driver.js";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { planRowChanges } from "../shared/collapse-by-key.js";
import { ColocatedCheckpoint } from "../shared/colocated-checkpoint.js";
import type { KeyDelete, RowChangeOptions } from "../shared/collapse-by-key.js";
import { parseTableName, quoteIdentifier, quoteTableName } from "../shared/sql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, SinkRunStart, WriteOptions, WriteOutcome } from "../types.js";
import type { SqliteDatabase, SqliteHandle } from "./database.js";
import { deleteByKey, sqliteTableExists } from "./merge-deletes.js";
import { SqliteReplaceStaging } from "./replace-staging.js";
import { payloadToRow } from "./row-values.js";
import type { SqliteValue } from "./row-values.js";
import type { SqliteSinkOptions } from "./schema.js";
import { isRowLevelSqliteError, sqliteFailure } from "./sqlite-errors.js";
import { SqliteTargetColumns } from "./target-columns.js";

interface PendingRow {
  index: number;
  columns: string[];
  values: SqliteValue[];
  statement?: SqliteStatement;
}

const STATEMENT_CACHE_LIMIT = 64;

export function createSqliteSink(database: SqliteDatabase, options: SqliteSinkOptions, ctx: SinkContext): Sink {
  if (database.readonly) {
    throw configError(`sqlite target ${options.table}: the connection is readonly; remove readonly: true to write`, { code: "config.sqlite_sink" });
  }
  return new SqliteSink(database, options, ctx.logger, new ColocatedCheckpoint(ctx.sharedCheckpoints, async () => sqliteDatabaseIdentity(database.file)));
}

class SqliteSink implements Sink {
  readonly #database: SqliteDatabase;
  readonly #label: string;
  /** Quoted table written to: the target, or the staging table while a replace run is open. */
  #table: string;
  /** The same, unquoted ("table" or "schema.table"). */
  #tableName: string;
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #changes: RowChangeOptions;
  readonly #replace: SqliteReplaceStaging | undefined;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #statements = new Map<string, SqliteStatement>();
  /** Creates the table, applies on_schema_change and converts values by column type. */
  readonly #target: SqliteTargetColumns;
  /** Commits the checkpoint with the rows when the file is also the state store's. */
  readonly #checkpoint: ColocatedCheckpoint;

  constructor(database: SqliteDatabase, options: SqliteSinkOptions, logger: SinkContext["logger"], checkpoint: ColocatedCheckpoint) {
    this.#database = database;
    this.#checkpoint = checkpoint;
    this.#label = options.table;
    this.#table = quoteTableName(options.table);
    this.#tableName = options.table;
    this.#keys = options.key === undefined ? [] : typeof options.key === "string" ? [options.key] : options.key;
    for (const key of this.#keys) quoteIdentifier(key, "key column");
    const mode = options.mode ?? (this.#keys.length > 0 ? "upsert" : "insert");
    if ((mode === "upsert" || mode === "merge") && this.#keys.length === 0) {
      throw configError(`sqlite target ${options.table}: mode ${mode} needs key (the column or columns of a PRIMARY KEY or UNIQUE constraint)`, {
        code: "config.sqlite_sink",
      });
    }
    // replace writes its staging table like upsert when there is a key (a retried batch is harmless), like insert otherwise.
    this.#upsert = mode !== "insert" && this.#keys.length > 0;
    this.#changes = { keys: this.#keys, mode, appliesDeletes: this.#upsert && mode !== "upsert", what: `sqlite target ${options.table}`, system: "sqlite" };
    this.#replace = mode === "replace" ? new SqliteReplaceStaging(parseTableName(options.table), `sqlite target ${options.table}`) : undefined;
    this.#createTable = options.create_table ?? false;
    if (options.columns !== undefined) for (const column of options.columns) quoteIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
    this.#target = new SqliteTargetColumns({
      what: `sqlite target ${options.table}`,
      keys: this.#keys,
      createTable: this.#createTable,
      only: this.#only,
      policy: options.on_schema_change ?? "fail",
      logger,
    });
  }

  /** Start of a run: create the missing table from the source's declared columns, or check the table against them. */
  async begin(run: SinkRunStart, _signal: AbortSignal): Promise<void> {
    try {
      const db = this.#database.open();
      if (this.#replace !== undefined) this.#openStaging(db, this.#replace);
      await this.#target.begin(db, this.#tableName, run.schema);
    } catch (error) {
      throw sqliteFailure(error, `sqlite target ${this.#label}`);
    }
  }

  /** replace: a fresh staging table receives this run's writes. */
  #openStaging(db: SqliteHandle, replace: SqliteReplaceStaging): void {
    this.#statements.clear();
    const targetExists = replace.prepare(db);
    if (!targetExists && !this.#createTable) {
      throw configError(`sqlite target ${this.#label}: table ${replace.target} does not exist; create it first or set create_table: true`, { code: "sqlite.no_such_table" });
    }
    this.#table = replace.staging;
    this.#tableName = replace.stagingName;
  }

  /** replace: the run ended cleanly, the staging table becomes the target. */
  async complete(_signal: AbortSignal): Promise<void> {
    if (this.#replace === undefined || this.#table !== this.#replace.staging) return;
    this.#statements.clear();
    try {
      this.#replace.swap(this.#database.open());
    } catch (error) {
      throw sqliteFailure(error, `sqlite target ${this.#label}: swapping in ${this.#replace.staging}`);
    }
    this.#table = this.#replace.target;
    this.#tableName = this.#label;
    this.#target.forget();
  }

  async write(messages: Message[], signal: AbortSignal, options?: WriteOptions): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("sqlite write cancelled by shutdown", { code: "sqlite.aborted" }));
    const colocated = options?.checkpoint !== undefined && (await this.#checkpoint.colocated());
    const changes = planRowChanges(messages, this.#changes);
    const failures: MessageFailure[] = changes.failures;
    const rows = this.#rowsOf(messages, failures, changes.skipped);
    const deletes = changes.deletes;
    if (rows.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };

    let db: SqliteHandle;
    try {
      db = this.#database.open();
      // Deletes alone never create the table: with create_table, a missing table has nothing to delete.
      if (rows.length > 0 || !this.#createTable) await this.#target.prepare(db, this.#tableName, rows, messages);
      else if (!sqliteTableExists(db, this.#tableName)) return { failures: sortByIndex(failures) };
    } catch (error) {
      const failure = sqliteFailure(error, `sqlite target ${this.#label}`);
      for (const row of [...rows, ...deletes]) failures.push({ index: row.index, error: failure });
      return { failures: sortByIndex(failures) };
    }

    const prepared: PendingRow[] = [];
    for (const row of rows) {
      try {
        row.statement = this.#statementFor(db, row.columns);
        prepared.push(row);
      } catch (error) {
        failures.push({ index: row.index, error: this.#prepareFailure(error, row.columns) });
      }
    }
    if (prepared.length === 0 && deletes.length === 0) return { failures: sortByIndex(failures) };
    const checkpointed = { done: false };
    const beforeCommit = (failed: number): void => {
      if (!colocated || failures.length + failed > 0) return;
      const statement = this.#checkpoint.statementNow(options);
      if (statement === undefined) return;
      db.prepare(statement.sql).run(...(statement.params as SqliteValue[]));
      checkpointed.done = true;
    };
    failures.push(...this.#writeInTransaction(db, prepared, deletes, beforeCommit));
    return checkpointed.done && failures.length === 0 ? { failures: [], checkpointed: true } : { failures: sortByIndex(failures) };
  }

  /** Converts payloads to rows, reporting bad payloads; duplicate keys collapse to the last copy; `skipped` (deletes, superseded rows) are left out. */
  #rowsOf(messages: Message[], failures: MessageFailure[], skipped: ReadonlySet<number>): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
      if (skipped.has(index)) return;
      const converted = payloadToRow(message.payload, this.#only);
      if (!converted.ok) {
        failures.push({ index, error: converted.error });
        return;
      }
      const row: PendingRow = { index, columns: converted.columns, values: converted.values };
      if (this.#keys.length === 0) {
        rows.push(row);
        return;
      }
      const keyValues: SqliteValue[] = [];
      for (const key of this.#keys) {
        const at = row.columns.indexOf(key);
        const value = at === -1 ? null : (row.values[at] ?? null);
        if (value === null && this.#upsert) {
          failures.push({ index, error: permanentError(`payload has no value for key column ${key}; every row written by upsert needs its key`, { code: "sqlite.bad_payload" }) });
          return;
        }
        keyValues.push(value);
      }
      if (keyValues.includes(null)) {
        rows.push(row);
        return;
      }
      const identity = JSON.stringify(keyValues, (_name, value: unknown) => (typeof value === "bigint" ? `${value}n` : value));
      const earlier = byKey.get(identity);
      if (earlier !== undefined) rows[earlier] = undefined;
      byKey.set(identity, rows.length);
      rows.push(row);
    });
    return rows.filter((row): row is PendingRow => row !== undefined);
  }

  #statementFor(db: SqliteHandle, columns: string[]): SqliteStatement {
    const cacheKey = columns.join(",");
    const cached = this.#statements.get(cacheKey);
    if (cached) return cached;
    const quoted = columns.map((column) => quoteIdentifier(column));
    let sql = `INSERT INTO ${this.#table} (${quoted.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`;
    if (this.#upsert) {
      const conflict = this.#keys.map((key) => quoteIdentifier(key, "key column")).join(", ");
      const updates = columns.filter((column) => !this.#keys.includes(column)).map((column) => `${quoteIdentifier(column)} = excluded.${quoteIdentifier(column)}`);
      sql += updates.length === 0 ? ` ON CONFLICT (${conflict}) DO NOTHING` : ` ON CONFLICT (${conflict}) DO UPDATE SET ${updates.join(", ")}`;
    }
    const statement = db.prepare(sql);
    if (this.#statements.size >= STATEMENT_CACHE_LIMIT) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    this.#statements.set(cacheKey, statement);
    return statement;
  }

  #prepareFailure(error: unknown, columns: string[]): unknown {
    const reason = error instanceof Error ? error.message : String(error);
    if (/has no column named|no such column/i.test(reason)) {
      return permanentError(
        `sqlite target ${this.#label}: ${reason}; the payload fields (${columns.join(", ")}) must match the table's columns: map the payload, set columns, or add the column`,
        { code: "sqlite.unknown_column", cause: error },
      );
    }
    if (/ON CONFLICT clause does not match/i.test(reason)) {
      return configError(`sqlite target ${this.#label}: ${reason}; key must name a PRIMARY KEY or UNIQUE constraint of the table`, {
        code: "config.sqlite_sink",
        cause: error,
      });
    }
    return sqliteFailure(error, `sqlite target ${this.#label}`);
  }

  /**
   * One transaction per batch. A constraint or datatype error re-runs the batch row by
   * row under savepoints so only the offending rows fail; anything else fails them all.
   */
  #writeInTransaction(db: SqliteHandle, rows: PendingRow[], deletes: readonly KeyDelete[], beforeCommit: (failed: number) => void): MessageFailure[] {
    const failures: MessageFailure[] = [];
    try {
      db.exec("BEGIN IMMEDIATE");
      failures.push(...deleteByKey(db, { table: this.#table, keys: this.#keys, what: `sqlite target ${this.#label}` }, deletes));
      db.exec("SAVEPOINT junction_batch");
      let rowRejected = false;
      try {
        for (const row of rows) (row.statement as SqliteStatement).run(row.values);
      } catch (error) {
        if (!isRowLevelSqliteError(error)) throw error;
        rowRejected = true;
      }
      if (rowRejected) {
        db.exec("ROLLBACK TO junction_batch");
        for (const row of rows) {
          db.exec("SAVEPOINT junction_row");
          try {
            (row.statement as SqliteStatement).run(row.values);
          } catch (error) {
            if (!isRowLevelSqliteError(error)) throw error;
            db.exec("ROLLBACK TO junction_row");
            failures.push({ index: row.index, error: sqliteFailure(error, `sqlite target ${this.#label}`) });
          }
          db.exec("RELEASE junction_row");
        }
      }
      db.exec("RELEASE junction_batch");
      beforeCommit(failures.length);
      db.exec("COMMIT");
      return failures;
    } catch (error) {
      rollbackQuietly(db);
      const failure = sqliteFailure(error, `sqlite target ${this.#label}`);
      return [...deletes, ...rows].map((row) => ({ index: row.index, error: failure }));
    }
  }
}

function sortByIndex(failures: MessageFailure[]): MessageFailure[] {
  return failures.sort((a, b) => a.index - b.index);
}

/** Rolls back whatever is open; a failure here changes nothing for the caller, which already reports the original error. */
function rollbackQuietly(db: SqliteHandle): void {
  try {
    if (db.inTransaction) db.exec("ROLLBACK");
  } catch {
    // The connection may be unusable; SQLite rolls back an unfinished transaction when it is closed.
  }
}
