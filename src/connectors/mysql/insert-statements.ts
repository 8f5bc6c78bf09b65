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
  // Rows of a batch nearly always share one column list: its canonical order is worked out once.
  const orders = new Map<string, CanonicalOrder>();
  for (const row of rows) {
    const listed = row.columns.join(",");
    let order = orders.get(listed);
    if (order === undefined) {
      order = canonicalOrder(row.columns);
      orders.set(listed, order);
    }
    const canonical: InsertRow =
      order.positions === undefined ? row : { index: row.index, columns: order.columns, params: order.positions.map((at) => row.params[at] ?? null) };
    const group = groups.get(order.signature);
    if (group) group.push(canonical);
    else groups.set(order.signature, [canonical]);
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

interface CanonicalOrder {
  /** The columns sorted by name. */
  columns: readonly string[];
  /** Where each sorted column is in the row's own list; undefined when the row's list is already sorted. */
  positions: number[] | undefined;
  signature: string;
}

function canonicalOrder(listed: readonly string[]): CanonicalOrder {
  const order = listed.map((column, at) => ({ column, at })).sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
  const columns = order.map((entry) => entry.column);
  const sorted = order.every((entry, at) => entry.at === at);
  return { columns, positions: sorted ? undefined : order.map((entry) => entry.at), signature: columns.join(",") };
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
