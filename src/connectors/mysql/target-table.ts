import type { PortableType, RecordSchema } from "../record-schema.js";
import { quoteMysqlIdentifier } from "../shared/mysql-identifier.js";
import { tableColumnsPlan } from "../shared/table-from-schema.js";
import type { MysqlDatabase } from "./database.js";
import { mysqlErrno } from "./mysql-errors.js";
import { MAX_KEY_BYTES, commentClause, mysqlColumnType } from "./type-mapping.js";
import type { MysqlFlavor } from "./type-mapping.js";

/** ER_DUP_FIELDNAME: the column exists already. */
const DUPLICATE_COLUMN = 1060;

/**
 * `CREATE TABLE IF NOT EXISTS` with the source's declared columns mapped to faithful
 * MySQL/MariaDB types (a comment carries the portable type where the native type alone
 * would not give it back), NOT NULL where the source column is, PRIMARY KEY on `keys`
 * (else the schema's key), utf8mb4 with a binary collation so keys differing only in case
 * or accents stay distinct.
 */
export function createTargetTableSql(quotedTable: string, schema: RecordSchema, keys: readonly string[], flavor: MysqlFlavor, only?: ReadonlySet<string>): string {
  const plan = tableColumnsPlan(schema, keys, only, `mysql target ${quotedTable}`);
  const keyBytes = Math.floor(MAX_KEY_BYTES / Math.max(1, plan.keys.length));
  const definitions = plan.columns.map((column) => {
    const definition = mysqlColumnType(column.type, flavor, plan.keys.includes(column.name) ? keyBytes : undefined);
    return `${quoteMysqlIdentifier(column.name)} ${definition.type}${column.nullable ? " NULL" : " NOT NULL"}${commentClause(definition.comment)}`;
  });
  if (plan.keys.length > 0) definitions.push(`PRIMARY KEY (${plan.keys.map((key) => quoteMysqlIdentifier(key, "key column")).join(", ")})`);
  return `CREATE TABLE IF NOT EXISTS ${quotedTable} (${definitions.join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

/** Creates `quotedTable` (a target or a staging table) from a declared schema; see `createTargetTableSql`. */
export async function createTargetTable(database: MysqlDatabase, quotedTable: string, schema: RecordSchema, keys: readonly string[], flavor: MysqlFlavor, only?: ReadonlySet<string>): Promise<void> {
  await database.execute(createTargetTableSql(quotedTable, schema, keys, flavor, only));
}

/** Adds a nullable column; one added meanwhile by someone else is left as it is (MySQL has no ADD COLUMN IF NOT EXISTS). */
export async function addTargetColumn(database: MysqlDatabase, quotedTable: string, name: string, type: PortableType, flavor: MysqlFlavor): Promise<void> {
  const definition = mysqlColumnType(type, flavor);
  try {
    await database.execute(`ALTER TABLE ${quotedTable} ADD COLUMN ${quoteMysqlIdentifier(name)} ${definition.type} NULL${commentClause(definition.comment)}`);
  } catch (error) {
    if (mysqlErrno(error) !== DUPLICATE_COLUMN) throw error;
  }
}
