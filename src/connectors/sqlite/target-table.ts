import type { PortableType, RecordSchema } from "../record-schema.js";
import { parseTableName, quoteIdentifier, quoteTableName } from "../shared/sql-identifier.js";
import { tableColumnsPlan } from "../shared/table-from-schema.js";
import type { SqliteHandle } from "./database.js";
import { sqliteColumnType } from "./type-mapping.js";

export interface SqliteTargetColumn {
  name: string;
  /** Declared type as written ("" when none). */
  declared: string;
}

/** Columns of a table by lower-cased name (SQLite names ignore case); empty when the table does not exist. `table` is "table" or "schema.table". */
export function readTargetColumns(db: SqliteHandle, table: string): Map<string, SqliteTargetColumn> {
  const parsed = parseTableName(table);
  const rows = db.prepare("SELECT name, type FROM pragma_table_info(?, ?)").all(parsed.table, parsed.schema ?? "main");
  return new Map(rows.map((row) => [String(row.name).toLowerCase(), { name: String(row.name), declared: String(row.type ?? "") }]));
}

/**
 * `CREATE TABLE IF NOT EXISTS` with the source's declared columns mapped to SQLite
 * declared types that keep values exact (see type-mapping.ts), NOT NULL where the source
 * column is, and PRIMARY KEY on `keys` (else the schema's key).
 */
export function createTargetTableSql(table: string, schema: RecordSchema, keys: readonly string[], only?: ReadonlySet<string>): string {
  const plan = tableColumnsPlan(schema, keys, only, `sqlite target ${table}`);
  const definitions = plan.columns.map((column) => `${quoteIdentifier(column.name)} ${sqliteColumnType(column.type)}${column.nullable ? "" : " NOT NULL"}`);
  if (plan.keys.length > 0) definitions.push(`PRIMARY KEY (${plan.keys.map((key) => quoteIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteTableName(table)} (${definitions.join(", ")})`;
}

/** Creates `table` ("table" or "schema.table": a target or a staging table) from a declared schema. */
export function createTargetTable(db: SqliteHandle, table: string, schema: RecordSchema, keys: readonly string[], only?: ReadonlySet<string>): void {
  db.exec(createTargetTableSql(table, schema, keys, only));
}

/** Adds a nullable column; one that exists already (added meanwhile) is left as it is. */
export function addTargetColumn(db: SqliteHandle, table: string, name: string, type: PortableType): void {
  try {
    db.exec(`ALTER TABLE ${quoteTableName(table)} ADD COLUMN ${quoteIdentifier(name)} ${sqliteColumnType(type)}`);
  } catch (error) {
    if (!/duplicate column name/i.test(error instanceof Error ? error.message : String(error))) throw error;
  }
}
