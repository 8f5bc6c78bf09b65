import { quoteIdentifier } from "../shared/sql-identifier.js";
import type { SqliteValue } from "./row-values.js";

export interface InferredRow {
  columns: readonly string[];
  values: readonly SqliteValue[];
}

/**
 * `CREATE TABLE IF NOT EXISTS` with columns in order of first appearance in `rows`,
 * typed from the first non-null value (INTEGER, REAL, TEXT, BLOB; untyped when only
 * nulls were seen) and a PRIMARY KEY on `keys`.
 */
export function createTableSql(quotedTable: string, rows: readonly InferredRow[], keys: readonly string[]): string {
  const types = new Map<string, string | undefined>();
  for (const key of keys) types.set(key, undefined);
  for (const row of rows) {
    row.columns.forEach((column, index) => {
      if (types.get(column) !== undefined) return;
      types.set(column, columnType(row.values[index] ?? null));
    });
  }
  const definitions = [...types].map(([column, type]) => (type === undefined ? quoteIdentifier(column) : `${quoteIdentifier(column)} ${type}`));
  if (keys.length > 0) definitions.push(`PRIMARY KEY (${keys.map((key) => quoteIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${definitions.join(", ")})`;
}

function columnType(value: SqliteValue): string | undefined {
  if (value === null) return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? "INTEGER" : "REAL";
  if (typeof value === "bigint") return "INTEGER";
  if (typeof value === "string") return "TEXT";
  return "BLOB";
}
