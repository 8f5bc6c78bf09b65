import { configError } from "../../core/errors.js";
import { durationMs } from "../shared/config-fields.js";
import { quoteMysqlIdentifier, quoteMysqlTableName } from "../shared/mysql-identifier.js";
import type { MysqlSourceOptions } from "./schema.js";

export interface SourcePlan {
  incremental: boolean;
  /** Table name as configured, or "query"; used in message ids and metadata. */
  label: string;
  keys: string[];
  cursors: string[];
  /** Keyset columns in ORDER BY order: cursor columns, then key columns not already listed. */
  order: string[];
  /** First page (no parameters). */
  firstSql: string;
  /** Following pages: parameters from `keysetParams(lastValues)`. */
  nextSql: string;
  /** What is read: `SELECT <select> FROM <from>` (for describing it). */
  select: string;
  from: string;
  /** Column whose value marks a row deleted (soft_delete), always read. */
  softDelete: string | undefined;
}

export function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}

/**
 * Paging SQL for a source: a keyset on `order`, written as the expanded
 * `c > ? OR (c = ? AND k > ?)` because MariaDB does not use an index for the row-value
 * comparison `(c, k) > (?, ?)`. Identifiers are validated and backtick-quoted; `where`
 * and `query` are trusted config.
 */
export function planSourceQuery(options: MysqlSourceOptions, batchSize: number): SourcePlan {
  const problem = sourceOptionProblem(options);
  if (problem !== undefined) throw configError(`mysql source: ${problem}`, { code: "config.mysql_source" });
  const keys = asList(options.key);
  const cursors = asList(options.cursor);
  const incremental = (options.mode ?? (cursors.length > 0 ? "incremental" : "full_refresh")) === "incremental";
  const order = incremental ? [...cursors, ...keys.filter((key) => !cursors.includes(key))] : keys;
  const quotedOrder = order.map((column) => quoteMysqlIdentifier(column, "key or cursor column"));
  if (options.soft_delete !== undefined) quoteMysqlIdentifier(options.soft_delete, "soft_delete column");
  const from = options.table !== undefined ? quoteMysqlTableName(options.table) : `(${(options.query as string).trim()}) AS \`junction_source\``;

  let select = "*";
  if (options.columns !== undefined) {
    const names = new Set([...options.columns, ...keys, ...(incremental ? cursors : []), ...asList(options.soft_delete)]);
    select = [...names].map((name) => quoteMysqlIdentifier(name)).join(", ");
  }
  const base = options.where === undefined ? [] : [`(${options.where})`];
  for (const column of quotedOrder) base.push(`${column} IS NOT NULL`);
  if (incremental && options.lag !== undefined) {
    const micros = Math.round(durationMs(options.lag, 0) * 1000);
    base.push(`${quotedOrder[0] as string} < NOW(6) - INTERVAL ${micros} MICROSECOND`);
  }
  const tail = ` ORDER BY ${quotedOrder.join(", ")} LIMIT ${Math.trunc(batchSize)}`;
  const sql = (conditions: string[]): string => `SELECT ${select} FROM ${from} WHERE ${conditions.join(" AND ")}${tail}`;
  return {
    incremental,
    label: options.table ?? "query",
    keys,
    cursors,
    order,
    firstSql: sql(base),
    nextSql: sql([...base, keysetCondition(quotedOrder)]),
    select,
    from,
    softDelete: options.soft_delete,
  };
}

/** `a > ? OR (a = ? AND b > ?) OR (a = ? AND b = ? AND c > ?)`, in parentheses. */
function keysetCondition(columns: readonly string[]): string {
  const terms = columns.map((column, index) => {
    const equal = columns.slice(0, index).map((earlier) => `${earlier} = ?`);
    return equal.length === 0 ? `${column} > ?` : `(${[...equal, `${column} > ?`].join(" AND ")})`;
  });
  return `(${terms.join(" OR ")})`;
}

/** Parameters of `nextSql` for the last row's values of the `order` columns. */
export function keysetParams<T>(last: readonly T[]): T[] {
  const params: T[] = [];
  last.forEach((_, index) => params.push(...last.slice(0, index + 1)));
  return params;
}

/** Rules the schema cannot express; undefined when the options are consistent. */
export function sourceOptionProblem(options: MysqlSourceOptions): string | undefined {
  if ((options.table === undefined) === (options.query === undefined)) return "set exactly one of table or query";
  if (options.query !== undefined && options.query.trim().endsWith(";")) return "remove the trailing semicolon from query: it is wrapped as a subquery";
  if (options.mode === "incremental" && asList(options.cursor).length === 0) return "mode incremental needs cursor (a column that grows when a row changes, e.g. updated_at)";
  if (options.lag !== undefined && (options.mode === "full_refresh" || asList(options.cursor).length === 0)) return "lag applies to incremental reads only: set cursor, or remove lag";
  return undefined;
}
