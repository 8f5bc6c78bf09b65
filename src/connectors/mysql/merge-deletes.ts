import type { PoolConnection } from "mysql2/promise";
import type { KeyDelete } from "../shared/collapse-by-key.js";
import { quoteMysqlIdentifier } from "../shared/mysql-identifier.js";
import type { MessageFailure } from "../types.js";
import type { MysqlDatabase, MysqlParam } from "./database.js";
import { MAX_PLACEHOLDERS } from "./insert-statements.js";
import { isRowLevelMysqlError } from "./mysql-errors.js";
import { paramBytes, toParam } from "./write-values.js";
import type { ColumnConversion } from "./write-values.js";

/**
 * Most keys in one DELETE. Measured on MariaDB 10.11 (1M-row table, two-column key):
 * 5,000 keys per statement delete 32,767 rows in about 0.7 s, one statement of 32,767 keys
 * takes 2 s, so longer lists only cost more.
 */
const MAX_KEYS_PER_STATEMENT = 5_000;

export interface MysqlDeleteTarget {
  /** Backtick-quoted table, validated. */
  table: string;
  keys: readonly string[];
  /** How each key column takes its values (binary from base64, DATETIME from ISO). */
  conversions: ReadonlyMap<string, ColumnConversion>;
  sessionOffset: string;
  database: MysqlDatabase;
  /** "mysql target users", for messages. */
  what: string;
}

interface DeleteRow {
  index: number;
  params: MysqlParam[];
}

/**
 * Deletes the rows with the keys of `deletes` on `connection`, inside the caller's
 * transaction: `DELETE … WHERE (k1, k2) IN ((?, ?), …)` in chunks that stay under the
 * 65,535-placeholder ceiling, `maxBytes` of a packet and MAX_KEYS_PER_STATEMENT. A chunk
 * rejected for a row (a foreign key restricting the delete) is re-run key by key under
 * savepoints so only those messages fail; a key value that cannot be bound fails its
 * message before anything is sent.
 */
export async function deleteByKey(connection: PoolConnection, target: MysqlDeleteTarget, deletes: readonly KeyDelete[], maxBytes: number): Promise<MessageFailure[]> {
  const failures: MessageFailure[] = [];
  const rows: DeleteRow[] = [];
  for (const row of deletes) {
    try {
      rows.push({ index: row.index, params: target.keys.map((key, at) => toParam(row.values[at], key, target.conversions.get(key), target.sessionOffset)) });
    } catch (error) {
      failures.push({ index: row.index, error });
    }
  }
  for (const chunk of chunkDeletes(rows, target.keys.length, maxBytes)) {
    try {
      await connection.execute(deleteSql(target.table, target.keys, chunk.length), chunk.flatMap((row) => row.params));
    } catch (error) {
      if (!isRowLevelMysqlError(error)) throw error;
      failures.push(...(await deleteOneByOne(connection, target, chunk)));
    }
  }
  return failures;
}

async function deleteOneByOne(connection: PoolConnection, target: MysqlDeleteTarget, rows: readonly DeleteRow[]): Promise<MessageFailure[]> {
  const failures: MessageFailure[] = [];
  const sql = deleteSql(target.table, target.keys, 1);
  for (const row of rows) {
    await connection.query("SAVEPOINT junction_delete_row");
    try {
      await connection.execute(sql, row.params);
    } catch (error) {
      if (!isRowLevelMysqlError(error)) throw error;
      await connection.query("ROLLBACK TO SAVEPOINT junction_delete_row");
      failures.push({ index: row.index, error: target.database.failure(error, target.what) });
    }
    await connection.query("RELEASE SAVEPOINT junction_delete_row");
  }
  return failures;
}

function chunkDeletes(rows: readonly DeleteRow[], keyCount: number, maxBytes: number): DeleteRow[][] {
  const rowLimit = Math.min(MAX_KEYS_PER_STATEMENT, Math.floor(MAX_PLACEHOLDERS / keyCount));
  const chunks: DeleteRow[][] = [];
  let current: DeleteRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.params.reduce<number>((sum, param) => sum + paramBytes(param) + 8, 0);
    if (current.length > 0 && (current.length >= rowLimit || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** `DELETE FROM t WHERE k IN (?, …)`, or `(k1, k2) IN ((?, ?), …)` for a composite key (MariaDB and MySQL use the index for both). */
export function deleteSql(quotedTable: string, keys: readonly string[], rowCount: number): string {
  const columns = keys.map((key) => quoteMysqlIdentifier(key, "key column"));
  const tuple = keys.length === 1 ? "?" : `(${keys.map(() => "?").join(", ")})`;
  const left = keys.length === 1 ? (columns[0] as string) : `(${columns.join(", ")})`;
  return `DELETE FROM ${quotedTable} WHERE ${left} IN (${Array.from({ length: rowCount }, () => tuple).join(", ")})`;
}
