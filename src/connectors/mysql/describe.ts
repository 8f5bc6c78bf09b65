import type { FieldPacket } from "mysql2/promise";
import type { ColumnSchema, PortableType, RecordSchema } from "../record-schema.js";
import type { TableName } from "../shared/sql-identifier.js";
import type { MysqlDatabase } from "./database.js";
import { portableFromMysql } from "./type-mapping.js";
import type { MysqlColumnInfo, MysqlFlavor } from "./type-mapping.js";

/** One column of a table, as information_schema tells it. */
export interface MysqlTableColumn {
  name: string;
  nullable: boolean;
  info: MysqlColumnInfo;
}

const COLUMNS_SQL = `SELECT COLUMN_NAME AS name, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, NUMERIC_PRECISION AS num_precision,
    NUMERIC_SCALE AS num_scale, DATETIME_PRECISION AS dt_precision, CHARACTER_MAXIMUM_LENGTH AS max_length, COLUMN_COMMENT AS comment, IS_NULLABLE AS nullable
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`;

const CHECKS_SQL = "SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

/** The columns of a table in order; empty when it does not exist. */
export async function readMysqlColumns(database: MysqlDatabase, table: TableName): Promise<MysqlTableColumn[]> {
  const schema = table.schema ?? null;
  const columns = await database.execute(COLUMNS_SQL, [schema, table.table]);
  if (columns.rows.length === 0) return [];
  const jsonChecked = await jsonCheckedColumns(database, schema, table.table);
  return columns.rows.map((row) => {
    const name = String(row.name);
    return {
      name,
      nullable: String(row.nullable) === "YES",
      info: {
        dataType: String(row.data_type),
        columnType: String(row.column_type),
        precision: numberOrNull(row.num_precision),
        scale: numberOrNull(row.num_scale),
        datetimePrecision: numberOrNull(row.dt_precision),
        maxLength: numberOrNull(row.max_length),
        comment: row.comment === null || row.comment === undefined ? null : String(row.comment),
        jsonChecked: jsonChecked.has(name),
      },
    };
  });
}

/** MariaDB's JSON is LONGTEXT with a CHECK (json_valid(`column`)). */
async function jsonCheckedColumns(database: MysqlDatabase, schema: string | null, table: string): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    const checks = await database.execute(CHECKS_SQL, [schema, table]);
    for (const check of checks.rows) {
      const match = /^json_valid\(`([A-Za-z0-9_]+)`\)$/i.exec(String(check.clause).trim());
      if (match) names.add(match[1] as string);
    }
  } catch {
    // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME; there JSON columns have their own DATA_TYPE.
  }
  return names;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Declared columns of a table, in table order, restricted to `columns` when set (case-insensitively, as MySQL names are). */
export async function describeMysqlTable(database: MysqlDatabase, table: TableName, columns: readonly string[] | undefined, key: readonly string[]): Promise<RecordSchema> {
  const wanted = columns === undefined ? undefined : new Set(columns.map((name) => name.toLowerCase()));
  const read = (await readMysqlColumns(database, table)).filter((column) => wanted === undefined || wanted.has(column.name.toLowerCase()));
  return {
    columns: read.map((column) => ({ name: column.name, type: portableFromMysql(column.info), nullable: column.nullable, declared: column.info.columnType })),
    key: [...key],
  };
}

/** Declared columns of a query's result, from the result metadata (`LIMIT 0`, nothing read); best effort. */
export async function describeMysqlQuery(database: MysqlDatabase, selectSql: string, key: readonly string[]): Promise<RecordSchema> {
  const { fields } = await database.execute(`${selectSql} LIMIT 0`);
  return { columns: fields.map(fieldColumn), key: [...key] };
}

// Result metadata: column type codes and flags of the client/server protocol.
const NOT_NULL_FLAG = 1;
const UNSIGNED_FLAG = 32;
const BINARY_CHARSET = 63;
const UTF8MB4_BYTES = 4;

function fieldColumn(field: FieldPacket): ColumnSchema {
  const flags = Number(field.flags ?? 0);
  return { name: field.name, type: fieldType(field, (flags & UNSIGNED_FLAG) !== 0), nullable: (flags & NOT_NULL_FLAG) === 0 };
}

function fieldType(field: FieldPacket, unsigned: boolean): PortableType {
  const extended = field as FieldPacket & { extendedFormat?: string; extendedTypeName?: string };
  if (extended.extendedFormat === "json") return { kind: "json" };
  if (extended.extendedTypeName === "uuid") return { kind: "uuid" };
  const length = Number(field.columnLength ?? 0);
  const decimals = Number(field.decimals ?? 0);
  const binary = field.characterSet === BINARY_CHARSET;
  switch (field.columnType) {
    case 0:
    case 246:
      return { kind: "decimal", precision: length - (unsigned ? 0 : 1) - (decimals > 0 ? 1 : 0), scale: decimals };
    case 1:
      return length === 1 && !unsigned ? { kind: "boolean" } : { kind: "integer", bytes: 2 };
    case 2:
    case 13:
      return { kind: "integer", bytes: unsigned ? 4 : 2 };
    case 9:
      return { kind: "integer", bytes: 4 };
    case 3:
      return { kind: "integer", bytes: unsigned ? 8 : 4 };
    case 8:
      return unsigned ? { kind: "decimal", precision: 20, scale: 0 } : { kind: "integer", bytes: 8 };
    case 4:
      return { kind: "float", bytes: 4 };
    case 5:
      return { kind: "float", bytes: 8 };
    case 7:
    case 17:
      return { kind: "timestamp", withZone: true, precision: decimals };
    case 12:
    case 18:
      return { kind: "timestamp", withZone: false, precision: decimals };
    case 10:
    case 14:
      return { kind: "date" };
    case 11:
    case 19:
      return { kind: "time", precision: decimals };
    case 245:
      return { kind: "json" };
    case 16:
    case 255:
      return { kind: "bytes" };
    case 15:
    case 253:
    case 254:
      return binary ? { kind: "bytes" } : { kind: "text", maxLength: Math.floor(length / UTF8MB4_BYTES) };
    case 249:
    case 250:
    case 251:
    case 252:
      return binary ? { kind: "bytes" } : { kind: "text" };
    default:
      return { kind: "text" };
  }
}

/** What the server stores natively (UUID since MariaDB 10.7). */
export async function mysqlFlavor(database: MysqlDatabase): Promise<MysqlFlavor> {
  const version = String((await database.execute("SELECT VERSION() AS version")).rows[0]?.version ?? "");
  const match = /^(\d+)\.(\d+)/.exec(version);
  const mariadb = /mariadb/i.test(version);
  const [major, minor] = match === null ? [0, 0] : [Number(match[1]), Number(match[2])];
  return { uuidType: mariadb && (major > 10 || (major === 10 && minor >= 7)) };
}
