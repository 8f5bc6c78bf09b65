import type { KeyDelete } from "../shared/collapse-by-key.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import type { MessageFailure } from "../types.js";
import type { SqliteHandle } from "./database.js";
import { toSqliteValue } from "./row-values.js";
import { isRowLevelSqliteError, sqliteFailure } from "./sqlite-errors.js";

/** Whether `table` ("table" or "schema.table", validated) exists. */
export function sqliteTableExists(db: SqliteHandle, table: string): boolean {
  const [first, second] = table.split(".") as [string, string | undefined];
  const master = second === undefined ? "sqlite_master" : `${quoteIdentifier(first, "schema")}.sqlite_master`;
  return db.prepare(`SELECT 1 FROM ${master} WHERE type = 'table' AND name = ? COLLATE NOCASE`).get(second ?? first) !== undefined;
}

export interface SqliteDeleteTarget {
  /** `"schema"."table"` or `"table"`, validated. */
  table: string;
  keys: readonly string[];
  /** "sqlite target users", for messages. */
  what: string;
}

/**
 * Deletes the rows with the keys of `deletes` inside the caller's transaction, with one
 * prepared `DELETE … WHERE k1 = ? AND k2 = ?` run per key. SQLite runs in-process, so
 * there is no round trip to save by batching: measured on 500,000 rows, 70,000 keys take
 * 0.3 s this way and 0.7 s as `IN (VALUES …)` lists cut under SQLITE_MAX_VARIABLE_NUMBER
 * (32,766 in the bundled SQLite), and each statement binds only the key columns, far from
 * that ceiling. When a delete is rejected (a foreign key with foreign_keys on, a trigger's
 * RAISE), the keys are deleted again one by one under savepoints so only those fail.
 */
export function deleteByKey(db: SqliteHandle, target: SqliteDeleteTarget, deletes: readonly KeyDelete[]): MessageFailure[] {
  if (deletes.length === 0) return [];
  const statement = db.prepare(`DELETE FROM ${target.table} WHERE ${target.keys.map((key) => `${quoteIdentifier(key, "key column")} = ?`).join(" AND ")}`);
  const rows = deletes.map((row) => ({ index: row.index, values: row.values.map(toSqliteValue) }));
  db.exec("SAVEPOINT junction_deletes");
  try {
    for (const row of rows) statement.run(row.values);
    db.exec("RELEASE junction_deletes");
    return [];
  } catch (error) {
    if (!isRowLevelSqliteError(error)) throw error;
    db.exec("ROLLBACK TO junction_deletes");
  }
  const failures: MessageFailure[] = [];
  for (const row of rows) {
    db.exec("SAVEPOINT junction_delete_row");
    try {
      statement.run(row.values);
    } catch (error) {
      if (!isRowLevelSqliteError(error)) throw error;
      db.exec("ROLLBACK TO junction_delete_row");
      failures.push({ index: row.index, error: sqliteFailure(error, target.what) });
    }
    db.exec("RELEASE junction_delete_row");
  }
  db.exec("RELEASE junction_deletes");
  return failures;
}
