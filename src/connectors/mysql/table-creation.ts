import { quoteMysqlIdentifier } from "../shared/mysql-identifier.js";

export interface InferredRow {
  columns: readonly string[];
  values: readonly unknown[];
}

/**
 * `CREATE TABLE IF NOT EXISTS` with columns in order of first appearance in `rows`, typed
 * from the first non-null value (BIGINT widened to DOUBLE when any value in `rows` has a
 * fraction, so 0 then 0.25 does not round to an integer column), PRIMARY KEY on `keys`, utf8mb4 with a binary collation
 * so keys differing only in case or accents stay distinct.
 */
export function createTableSql(quotedTable: string, rows: readonly InferredRow[], keys: readonly string[]): string {
  const types = new Map<string, string | undefined>();
  for (const key of keys) types.set(key, undefined);
  for (const row of rows) {
    row.columns.forEach((column, index) => {
      const value = row.values[index];
      const known = types.get(column);
      if (known === "BIGINT" && typeof value === "number" && !Number.isInteger(value)) types.set(column, "DOUBLE");
      if (known !== undefined) return;
      types.set(column, columnType(value, keys.includes(column)));
    });
  }
  const definitions = [...types].map(([column, type]) => `${quoteMysqlIdentifier(column)} ${type ?? (keys.includes(column) ? "VARCHAR(255)" : "LONGTEXT")}${keys.includes(column) ? " NOT NULL" : " NULL"}`);
  if (keys.length > 0) definitions.push(`PRIMARY KEY (${keys.map((key) => quoteMysqlIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${definitions.join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

function columnType(value: unknown, isKey: boolean): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? "BIGINT" : "DOUBLE";
  if (typeof value === "bigint") return "BIGINT";
  if (typeof value === "boolean") return "TINYINT(1)";
  if (typeof value === "string") return isKey ? "VARCHAR(255)" : "LONGTEXT";
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return isKey ? "VARBINARY(255)" : "LONGBLOB";
  if (value instanceof Date) return "DATETIME(6)";
  return "JSON";
}
