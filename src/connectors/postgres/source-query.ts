import pg from "pg";
import { configError } from "../../core/errors.js";
import { parseTableName, quoteIdentifier } from "../shared/sql-identifier.js";
import { columnNames } from "./schema.js";
import type { PostgresSourceOptions } from "./schema.js";

/** Prefix of the `::text` copies of the position columns added to every read, removed from payloads. */
export const POSITION_ALIAS = "__junction_position_";

/** What a source reads and in which order; the SQL itself needs the column types (see `pageSql`). */
export interface SourcePlan {
  incremental: boolean;
  /** Table name as configured, or "query"; used in message ids and metadata. */
  label: string;
  /** `FROM` clause target: a quoted table or the wrapped query. */
  from: string;
  /** Quoted select list (without the position copies). */
  select: string;
  /** Trusted `where`, parenthesised, when set. */
  where: string | undefined;
  cursor: string[];
  key: string[];
  /** The keyset order: cursor columns, then key columns not already in it. */
  order: string[];
  lagMs: number | undefined;
  /** Column whose value marks a row deleted (soft_delete), always read. */
  softDelete: string | undefined;
}

export function planSourceQuery(options: PostgresSourceOptions, schema: string, lagMs: number | undefined): SourcePlan {
  if ((options.table === undefined) === (options.query === undefined)) {
    throw configError("postgres source: set exactly one of table or query", { code: "config.postgres_source" });
  }
  const key = columnNames(options.key);
  const cursor = columnNames(options.cursor);
  const incremental = (options.mode ?? (cursor.length > 0 ? "incremental" : "full_refresh")) === "incremental";
  if (incremental && cursor.length === 0) {
    throw configError("postgres source: mode incremental needs cursor (a column that grows when a row changes, e.g. updated_at)", { code: "config.postgres_source" });
  }
  let from: string;
  if (options.table !== undefined) {
    const table = parseTableName(options.table);
    from = `${quoteIdentifier(table.schema ?? schema, "schema")}.${quoteIdentifier(table.table, "table")}`;
  } else {
    const query = options.query as string;
    if (query.trim().endsWith(";")) throw configError("postgres source: query must be a single SELECT without a trailing semicolon", { code: "config.postgres_source" });
    from = `(${query.trim()}) AS "junction_source"`;
  }
  for (const column of key) quoteIdentifier(column, "key column");
  for (const column of cursor) quoteIdentifier(column, "cursor column");
  if (options.soft_delete !== undefined) quoteIdentifier(options.soft_delete, "soft_delete column");
  const order = incremental ? [...new Set([...cursor, ...key])] : key;
  let select = "*";
  if (options.columns !== undefined) {
    select = [...new Set([...options.columns, ...order, ...(options.soft_delete === undefined ? [] : [options.soft_delete])])].map((column) => quoteIdentifier(column)).join(", ");
  }
  return {
    incremental,
    label: options.table ?? "query",
    from,
    select,
    where: options.where === undefined ? undefined : `(${options.where})`,
    cursor: incremental ? cursor : [],
    key,
    order,
    lagMs: incremental ? lagMs : undefined,
    softDelete: options.soft_delete,
  };
}

/** How a row's position (the text of its `order` columns) names its message. */
export interface MessageNaming {
  /** The key text; JSON of the texts when the key has several columns. */
  key(position: readonly string[]): string;
  /** `label:key`, and `label:key:cursor,…` when incremental (a changed row is a new message). */
  id(key: string, position: readonly string[]): string;
}

/** The naming of `plan`'s messages, with the column lookups done once rather than per row. */
export function messageNaming(plan: SourcePlan): MessageNaming {
  const keyAt = plan.key.map((column) => plan.order.indexOf(column));
  const cursorAt = plan.cursor.map((column) => plan.order.indexOf(column));
  const prefix = `${plan.label}:`;
  const single = keyAt.length === 1 ? (keyAt[0] as number) : -1;
  return {
    key: (position) => (single !== -1 ? (position[single] as string) : JSON.stringify(keyAt.map((at) => position[at] as string))),
    id: plan.incremental ? (key, position) => `${prefix}${key}:${cursorAt.map((at) => position[at] as string).join(",")}` : (key) => prefix + key,
  };
}

/**
 * One keyset page. `types` are the SQL types of the `order` columns (as `format_type`
 * prints them), used to cast the checkpoint text back: `(c1, k) > ($1::timestamptz, $2::bigint)`.
 * Parameters: [...position (when `after`), limit, lag seconds (when lag)].
 */
export function pageSql(plan: SourcePlan, types: readonly string[], after: boolean): string {
  let next = 1;
  const position = after ? plan.order.map(() => `$${next++}`) : undefined;
  const limit = `$${next++}`;
  return selectPage(plan, types, position, limit, plan.lagMs === undefined ? undefined : `$${next++}`);
}

/**
 * The same page as `COPY (SELECT …) TO STDOUT`, for reading it as text in bulk. COPY takes
 * no parameters, so the values are written into the SQL: the position as quoted literals
 * (text the server produced, escaped by node-postgres' escapeLiteral), the limit and the
 * lag as numbers.
 */
export function copyPageSql(plan: SourcePlan, types: readonly string[], position: readonly string[] | undefined, limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`page limit must be a non-negative integer, got ${limit}`);
  const lag = plan.lagMs === undefined ? undefined : numberLiteral(plan.lagMs / 1000);
  return `COPY (${selectPage(plan, types, position?.map((value) => pg.escapeLiteral(value)), String(limit), lag)}) TO STDOUT`;
}

/** The page's SELECT with `position` (after which to read; none: from the start), `limit` and `lag` given as SQL expressions. */
function selectPage(plan: SourcePlan, types: readonly string[], position: readonly string[] | undefined, limit: string, lag: string | undefined): string {
  const conditions: string[] = [];
  if (plan.where !== undefined) conditions.push(plan.where);
  for (const column of plan.order) conditions.push(`${quoteIdentifier(column)} IS NOT NULL`);
  if (position !== undefined) {
    const columns = plan.order.map((column) => quoteIdentifier(column));
    const values = position.map((value, index) => castBack(value, types[index] as string));
    conditions.push(columns.length === 1 ? `${columns[0]} > ${values[0]}` : `(${columns.join(", ")}) > (${values.join(", ")})`);
  }
  if (lag !== undefined) {
    conditions.push(`${quoteIdentifier(plan.cursor[0] as string)} <= now() - make_interval(secs => ${lag}::double precision)`);
  }
  const positions = plan.order.map((column, index) => `${quoteIdentifier(column)}::text AS "${POSITION_ALIAS}${index}"`);
  const where = conditions.length === 0 ? "" : ` WHERE ${conditions.join(" AND ")}`;
  const order = plan.order.map((column) => quoteIdentifier(column)).join(", ");
  return `SELECT ${plan.select}, ${positions.join(", ")} FROM ${plan.from}${where} ORDER BY ${order} LIMIT ${limit}`;
}

/** `value` (a parameter or a literal) cast to `type`; `type` comes from the server's format_type, never from config. */
function castBack(value: string, type: string): string {
  return `${value}::${type}`;
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return String(value);
}

/** Asks the server for the type of each `order` column, reading no row; a wrong name or table fails here. */
export function probeSql(plan: SourcePlan): string {
  const columns = plan.order.map((column) => `pg_typeof(${quoteIdentifier(column)})::text AS ${quoteIdentifier(column)}`);
  return `SELECT ${columns.join(", ")} FROM (SELECT * FROM ${plan.from} LIMIT 0) AS "junction_probe" RIGHT JOIN (SELECT 1) AS "junction_one" ON true`;
}
