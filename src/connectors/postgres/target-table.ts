import type { PortableType, RecordSchema } from "../record-schema.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import { tableColumnsPlan } from "../shared/table-from-schema.js";
import type { PostgresDatabase } from "./database.js";
import { postgresColumnType } from "./type-mapping.js";

const TARGET_COLUMNS_SQL = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
  WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

/** Column name → SQL type (format_type) of a table, in column order; empty when the table does not exist. */
export async function readTargetColumns(database: PostgresDatabase, quotedTable: string): Promise<Map<string, string>> {
  const result = await database.query<{ name: string; type: string }>(TARGET_COLUMNS_SQL, [quotedTable]);
  return new Map(result.rows.map((row) => [row.name, row.type]));
}

/**
 * `CREATE TABLE IF NOT EXISTS` with the source's declared columns and types, NOT NULL
 * where the source column is, and PRIMARY KEY on `keys` (else the schema's key).
 */
export function createTargetTableSql(quotedTable: string, schema: RecordSchema, keys: readonly string[], only?: ReadonlySet<string>, what = "postgres target"): string {
  const plan = tableColumnsPlan(schema, keys, only, what);
  const definitions = plan.columns.map((column) => `${quoteIdentifier(column.name)} ${postgresColumnType(column.type)}${column.nullable ? "" : " NOT NULL"}`);
  if (plan.keys.length > 0) definitions.push(`PRIMARY KEY (${plan.keys.map((key) => quoteIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${definitions.join(", ")})`;
}

/** Creates `quotedTable` (a target or a staging table) from a declared schema; see `createTargetTableSql`. */
export async function createTargetTable(database: PostgresDatabase, quotedTable: string, schema: RecordSchema, keys: readonly string[], only?: ReadonlySet<string>): Promise<void> {
  await database.query(createTargetTableSql(quotedTable, schema, keys, only, `postgres target ${quotedTable}`));
}

/** Adds a nullable column; one added meanwhile by someone else is left as it is. */
export async function addTargetColumn(database: PostgresDatabase, quotedTable: string, name: string, type: PortableType): Promise<void> {
  await database.query(`ALTER TABLE ${quotedTable} ADD COLUMN IF NOT EXISTS ${quoteIdentifier(name)} ${postgresColumnType(type)}`);
}
