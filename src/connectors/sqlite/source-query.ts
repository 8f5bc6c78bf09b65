import { configError } from "../../core/errors.js";
import { quoteIdentifier, quoteTableName } from "../shared/sql-identifier.js";
import type { SqliteSourceOptions } from "./schema.js";

/**
 * - keyset: incremental, `(cursor, key) > (last acked)`, checkpointed.
 * - key:    full read paged by key, every run.
 * - rowid:  full read of a table paged by rowid, every run.
 */
export type SourceMode = "keyset" | "key" | "rowid";

export const ROWID_ALIAS = "__junction_rowid__";

export interface SourcePlan {
  mode: SourceMode;
  /** Table name as configured, or "query"; used in message ids and metadata. */
  label: string;
  /** First page: parameters [limit]. */
  firstSql: string;
  /** Following pages: keyset [cursor, cursor, key, limit]; key [key, limit]; rowid [rowid, limit]. */
  nextSql: string;
  key?: string;
  cursor?: string;
  /** Column whose value marks a row deleted (soft_delete). */
  softDelete?: string | undefined;
}

/**
 * Builds the paging SQL for a source; identifiers are validated and quoted, `where` and `query` are trusted config.
 * `selectList` replaces the default `*` (or the `columns` option) when the columns are known.
 */
export function planSourceQuery(options: SqliteSourceOptions, selectList?: string): SourcePlan {
  if ((options.table === undefined) === (options.query === undefined)) {
    throw configError("sqlite source: set exactly one of table or query", { code: "config.sqlite_source" });
  }
  if (options.cursor !== undefined && options.key === undefined) {
    throw configError("sqlite source: cursor needs key (the primary key column that breaks ties between rows with the same cursor value)", {
      code: "config.sqlite_source",
    });
  }
  if (options.query !== undefined && options.key === undefined) {
    throw configError("sqlite source: a query needs key (the column to page by)", { code: "config.sqlite_source" });
  }
  const from = options.table !== undefined ? quoteTableName(options.table) : `(${trimQuery(options.query as string)}) AS "junction_source"`;
  const key = options.key === undefined ? undefined : quoteIdentifier(options.key, "key column");
  const cursor = options.cursor === undefined ? undefined : quoteIdentifier(options.cursor, "cursor column");
  const label = options.table ?? "query";
  if (options.soft_delete !== undefined) quoteIdentifier(options.soft_delete, "soft_delete column");
  const softDelete = options.soft_delete;

  let select = selectList ?? "*";
  if (selectList === undefined && options.columns !== undefined) {
    const names = new Set(options.columns);
    if (options.key !== undefined) names.add(options.key);
    if (options.cursor !== undefined) names.add(options.cursor);
    select = [...names].map((name) => quoteIdentifier(name)).join(", ");
  }
  const where = options.where === undefined ? [] : [`(${options.where})`];
  const filter = (conditions: string[]): string => (conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`);

  if (cursor !== undefined && key !== undefined) {
    const base = [...where, `${cursor} IS NOT NULL`];
    const order = ` ORDER BY ${cursor}, ${key} LIMIT ?`;
    return {
      mode: "keyset",
      label,
      firstSql: `SELECT ${select} FROM ${from}${filter(base)}${order}`,
      nextSql: `SELECT ${select} FROM ${from}${filter([...base, `((${cursor} > ?) OR (${cursor} = ? AND ${key} > ?))`])}${order}`,
      key: options.key,
      cursor: options.cursor,
      softDelete,
    };
  }
  if (key !== undefined) {
    const base = [...where, `${key} IS NOT NULL`];
    const order = ` ORDER BY ${key} LIMIT ?`;
    return {
      mode: "key",
      label,
      firstSql: `SELECT ${select} FROM ${from}${filter(base)}${order}`,
      nextSql: `SELECT ${select} FROM ${from}${filter([...base, `${key} > ?`])}${order}`,
      key: options.key,
      softDelete,
    };
  }
  const order = ` ORDER BY rowid LIMIT ?`;
  const rowidSelect = `SELECT rowid AS "${ROWID_ALIAS}", ${select} FROM ${from}`;
  return {
    mode: "rowid",
    label,
    firstSql: `${rowidSelect}${filter(where)}${order}`,
    nextSql: `${rowidSelect}${filter([...where, "rowid > ?"])}${order}`,
    softDelete,
  };
}

function trimQuery(query: string): string {
  const trimmed = query.trim();
  if (trimmed.endsWith(";")) {
    throw configError("sqlite source: query must be a single SELECT without a trailing semicolon", { code: "config.sqlite_source" });
  }
  return trimmed;
}
