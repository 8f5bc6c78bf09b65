import type { SqliteStatement } from "../../state/sqlite/sqlite-driver.js";
import { configError, permanentError, transientError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import { quoteIdentifier, quoteTableName } from "../shared/sql-identifier.js";
import { failAll } from "../types.js";
import type { MessageFailure, Sink, SinkContext, WriteOutcome } from "../types.js";
import type { SqliteDatabase, SqliteHandle } from "./database.js";
import { payloadToRow } from "./row-values.js";
import type { SqliteValue } from "./row-values.js";
import type { SqliteSinkOptions } from "./schema.js";
import { isRowLevelSqliteError, sqliteFailure } from "./sqlite-errors.js";
import { createTableSql } from "./table-creation.js";

interface PendingRow {
  index: number;
  columns: string[];
  values: SqliteValue[];
  statement?: SqliteStatement;
}

const STATEMENT_CACHE_LIMIT = 64;

export function createSqliteSink(database: SqliteDatabase, options: SqliteSinkOptions, _ctx: SinkContext): Sink {
  if (database.readonly) {
    throw configError(`sqlite target ${options.table}: the connection is readonly; remove readonly: true to write`, { code: "config.sqlite_sink" });
  }
  return new SqliteSink(database, options);
}

class SqliteSink implements Sink {
  readonly #database: SqliteDatabase;
  readonly #label: string;
  readonly #table: string;
  readonly #keys: readonly string[];
  readonly #upsert: boolean;
  readonly #createTable: boolean;
  readonly #only: ReadonlySet<string> | undefined;
  readonly #statements = new Map<string, SqliteStatement>();
  #tableCreated = false;

  constructor(database: SqliteDatabase, options: SqliteSinkOptions) {
    this.#database = database;
    this.#label = options.table;
    this.#table = quoteTableName(options.table);
    this.#keys = options.key === undefined ? [] : typeof options.key === "string" ? [options.key] : options.key;
    for (const key of this.#keys) quoteIdentifier(key, "key column");
    this.#upsert = (options.mode ?? (this.#keys.length > 0 ? "upsert" : "insert")) === "upsert";
    if (this.#upsert && this.#keys.length === 0) {
      throw configError(`sqlite target ${options.table}: mode upsert needs key (the column or columns of a PRIMARY KEY or UNIQUE constraint)`, {
        code: "config.sqlite_sink",
      });
    }
    this.#createTable = options.create_table ?? false;
    if (options.columns !== undefined) for (const column of options.columns) quoteIdentifier(column);
    this.#only = options.columns === undefined ? undefined : new Set([...options.columns, ...this.#keys]);
  }

  async write(messages: Message[], signal: AbortSignal): Promise<WriteOutcome> {
    if (signal.aborted) return failAll(messages, transientError("sqlite write cancelled by shutdown", { code: "sqlite.aborted" }));
    const failures: MessageFailure[] = [];
    const rows = this.#rowsOf(messages, failures);
    if (rows.length === 0) return { failures };

    let db: SqliteHandle;
    try {
      db = this.#database.open();
      if (this.#createTable && !this.#tableCreated) {
        db.exec(createTableSql(this.#table, rows, this.#keys));
        this.#tableCreated = true;
      }
    } catch (error) {
      const failure = sqliteFailure(error, `sqlite target ${this.#label}`);
      for (const row of rows) failures.push({ index: row.index, error: failure });
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
    if (prepared.length > 0) failures.push(...this.#writeInTransaction(db, prepared));
    return { failures: sortByIndex(failures) };
  }

  /** Converts payloads to rows, reporting bad payloads; duplicate keys collapse to the last copy. */
  #rowsOf(messages: Message[], failures: MessageFailure[]): PendingRow[] {
    const rows: Array<PendingRow | undefined> = [];
    const byKey = new Map<string, number>();
    messages.forEach((message, index) => {
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
  #writeInTransaction(db: SqliteHandle, rows: PendingRow[]): MessageFailure[] {
    const failures: MessageFailure[] = [];
    try {
      db.exec("BEGIN IMMEDIATE");
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
      db.exec("COMMIT");
      return failures;
    } catch (error) {
      rollbackQuietly(db);
      const failure = sqliteFailure(error, `sqlite target ${this.#label}`);
      return rows.map((row) => ({ index: row.index, error: failure }));
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
