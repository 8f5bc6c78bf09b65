import { quoteMysqlIdentifier } from "../shared/mysql-identifier.js";
import type { MysqlParam } from "./database.js";
import { paramBytes } from "./write-values.js";

/** The server rejects a prepared statement with more placeholders than this. */
export const MAX_PLACEHOLDERS = 65_535;

export interface InsertRow {
  /** Index of the message in the batch. */
  index: number;
  columns: readonly string[];
  params: readonly MysqlParam[];
}

export interface InsertChunk {
  columns: readonly string[];
  rows: InsertRow[];
}

/** Approximate bytes of a row in both the prepare packet ("(?, ?)") and the execute packet. */
export function rowBytes(row: InsertRow): number {
  let bytes = row.columns.length * 5 + 4;
  for (const param of row.params) bytes += paramBytes(param);
  return bytes;
}

/**
 * Groups rows with the same column set (columns in one canonical order) and splits each
 * group so that no statement exceeds the placeholder ceiling or `maxBytes`. A row alone
 * larger than `maxBytes` still gets its own chunk; the caller rejects it before sending.
 */
export function chunkRows(rows: readonly InsertRow[], maxBytes: number): InsertChunk[] {
  const groups = new Map<string, InsertRow[]>();
  for (const row of rows) {
    const order = row.columns.map((column, at) => ({ column, at })).sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
    const canonical: InsertRow = { index: row.index, columns: order.map((entry) => entry.column), params: order.map((entry) => row.params[entry.at] ?? null) };
    const signature = canonical.columns.join(",");
    const group = groups.get(signature);
    if (group) group.push(canonical);
    else groups.set(signature, [canonical]);
  }
  const chunks: InsertChunk[] = [];
  for (const group of groups.values()) {
    const columns = (group[0] as InsertRow).columns;
    const rowLimit = Math.max(1, Math.floor(MAX_PLACEHOLDERS / columns.length));
    let current: InsertRow[] = [];
    let bytes = 0;
    for (const row of group) {
      const size = rowBytes(row);
      if (current.length > 0 && (current.length >= rowLimit || bytes + size > maxBytes)) {
        chunks.push({ columns, rows: current });
        current = [];
        bytes = 0;
      }
      current.push(row);
      bytes += size;
    }
    if (current.length > 0) chunks.push({ columns, rows: current });
  }
  return chunks;
}

/** A multi-row INSERT of `rowCount` rows; with `upsertKeys`, `ON DUPLICATE KEY UPDATE` the other columns. */
export function insertSql(quotedTable: string, columns: readonly string[], rowCount: number, upsertKeys: readonly string[] | undefined): string {
  const quoted = columns.map((column) => quoteMysqlIdentifier(column));
  const tuple = `(${columns.map(() => "?").join(", ")})`;
  let sql = `INSERT INTO ${quotedTable} (${quoted.join(", ")}) VALUES ${Array.from({ length: rowCount }, () => tuple).join(", ")}`;
  if (upsertKeys !== undefined) {
    const updated = columns.filter((column) => !upsertKeys.includes(column));
    const assigned = (updated.length > 0 ? updated : columns.filter((column) => upsertKeys.includes(column))).map((column) => quoteMysqlIdentifier(column));
    sql += ` ON DUPLICATE KEY UPDATE ${assigned.map((column) => `${column} = VALUES(${column})`).join(", ")}`;
  }
  return sql;
}
