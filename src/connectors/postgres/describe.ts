import type { ColumnSchema, RecordSchema } from "../record-schema.js";
import { quoteIdentifier } from "../shared/sql-identifier.js";
import type { TableName } from "../shared/sql-identifier.js";
import type { PostgresDatabase } from "./database.js";
import { portableFromPostgres } from "./type-mapping.js";

/** What to describe: `SELECT <select> FROM <from>` (nothing is read). */
export interface PostgresRelation {
  /** Quoted table or a parenthesised, aliased query. */
  from: string;
  /** Quoted select list or "*". */
  select: string;
  /** Key columns of the messages (the source's `key`). */
  key: string[];
  /** A table: NOT NULL comes from the catalog. A query's columns are all reported nullable (a join can null any of them). */
  isTable: boolean;
}

interface FieldType {
  ord: number;
  declared: string;
  typname: string;
  typcategory: string;
}

const FIELD_TYPES_SQL = `SELECT m.ord::int AS ord, format_type(m.oid, m.typmod) AS declared, t.typname, t.typcategory
  FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS m(oid, typmod, ord) JOIN pg_type t ON t.oid = m.oid`;

const NOT_NULL_SQL = `SELECT a.attrelid::int8 AS rel, a.attnum AS num FROM pg_attribute a
  WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND a.attnotnull`;

/** Declared columns of a table, in table order (or the order of `columns`); usable by any PostgreSQL source. */
export async function describePostgresTable(database: PostgresDatabase, table: TableName, key: readonly string[], columns?: readonly string[]): Promise<RecordSchema> {
  const from = `${quoteIdentifier(table.schema ?? database.schema, "schema")}.${quoteIdentifier(table.table, "table")}`;
  const select = columns === undefined ? "*" : columns.map((column) => quoteIdentifier(column)).join(", ");
  return describePostgresRelation(database, { from, select, key: [...key], isTable: true });
}

/**
 * The declared columns of what a SELECT returns: the server describes the result
 * (`LIMIT 0`, no row read) with each field's type OID and modifier (a domain already
 * reported as its base type), which the catalog turns into names. Unknown types become text.
 */
export async function describePostgresRelation(database: PostgresDatabase, relation: PostgresRelation): Promise<RecordSchema> {
  const result = await database.query(`SELECT ${relation.select} FROM ${relation.from} LIMIT 0`);
  const fields = result.fields;
  const typeRows = (await database.query<FieldType>(FIELD_TYPES_SQL, [fields.map((field) => field.dataTypeID), fields.map((field) => field.dataTypeModifier)])).rows;
  const byOrdinal = new Map(typeRows.map((row) => [Number(row.ord), row]));
  const notNull = relation.isTable ? await notNullColumns(database, fields.map((field) => field.tableID)) : new Set<string>();
  const columns: ColumnSchema[] = fields.map((field, index) => {
    const row = byOrdinal.get(index + 1);
    const column: ColumnSchema = {
      name: field.name,
      type: row === undefined ? { kind: "text" } : portableFromPostgres({ name: row.typname, typmod: field.dataTypeModifier, category: row.typcategory }),
      nullable: !notNull.has(`${field.tableID}:${field.columnID}`),
    };
    if (row !== undefined) column.declared = row.declared;
    return column;
  });
  return { columns, key: [...relation.key] };
}

/** "table oid:column number" of every NOT NULL column of the given tables. */
async function notNullColumns(database: PostgresDatabase, tableIds: readonly number[]): Promise<Set<string>> {
  const tables = [...new Set(tableIds.filter((id) => id !== 0))];
  if (tables.length === 0) return new Set();
  const rows = (await database.query<{ rel: number; num: number }>(NOT_NULL_SQL, [tables])).rows;
  return new Set(rows.map((row) => `${Number(row.rel)}:${Number(row.num)}`));
}
