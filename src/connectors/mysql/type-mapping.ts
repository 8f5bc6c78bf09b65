import type { PortableType } from "../record-schema.js";
import { parsePortableTypeComment, portableTypeComment } from "../shared/portable-types.js";

/** A column as information_schema.COLUMNS describes it (plus whether a JSON_VALID check guards it: MariaDB's JSON). */
export interface MysqlColumnInfo {
  /** DATA_TYPE, e.g. "decimal". */
  dataType: string;
  /** COLUMN_TYPE, e.g. "decimal(12,2) unsigned", "tinyint(1)". */
  columnType: string;
  precision: number | null;
  scale: number | null;
  datetimePrecision: number | null;
  /** CHARACTER_MAXIMUM_LENGTH, in characters. */
  maxLength: number | null;
  comment: string | null;
  jsonChecked: boolean;
}

/** What the server can store natively. */
export interface MysqlFlavor {
  /** MariaDB 10.7+ has a UUID type; MySQL and older MariaDB get CHAR(36). */
  uuidType: boolean;
}

export interface MysqlColumnDefinition {
  /** Type for CREATE TABLE / ADD COLUMN. */
  type: string;
  /** The portable type, as a column comment, where the native type alone would not give it back. */
  comment?: string;
}

/** Widest exact DECIMAL: 65 digits, 30 of them after the point. */
const MAX_DECIMAL_PRECISION = 65;
const MAX_DECIMAL_SCALE = 30;
/** Longest VARCHAR in utf8mb4 (65,535 bytes per row / 4 bytes per character). */
const MAX_VARCHAR = 16_383;
/** Longest index key in InnoDB, shared by the columns of a composite key. */
export const MAX_KEY_BYTES = 3_072;
const UTF8MB4_BYTES = 4;

/**
 * The portable type of a MySQL/MariaDB column: a Junction column comment wins (it was
 * written where the native type alone loses something: a zoned timestamp in DATETIME,
 * an unconstrained decimal in LONGTEXT); otherwise the native type. TINYINT(1) is boolean.
 */
export function portableFromMysql(column: MysqlColumnInfo): PortableType {
  const fromComment = parsePortableTypeComment(column.comment);
  if (fromComment !== undefined) return fromComment;
  const dataType = column.dataType.toLowerCase();
  const columnType = column.columnType.toLowerCase();
  const unsigned = columnType.includes("unsigned");
  if (column.jsonChecked) return { kind: "json" };
  switch (dataType) {
    case "tinyint":
      return columnType.startsWith("tinyint(1)") && !unsigned ? { kind: "boolean" } : { kind: "integer", bytes: 2 };
    case "bool":
    case "boolean":
      return { kind: "boolean" };
    case "smallint":
    case "year":
      return { kind: "integer", bytes: unsigned ? 4 : 2 };
    case "mediumint":
      return { kind: "integer", bytes: 4 };
    case "int":
    case "integer":
      return { kind: "integer", bytes: unsigned ? 8 : 4 };
    case "bigint":
      return unsigned ? { kind: "decimal", precision: 20, scale: 0 } : { kind: "integer", bytes: 8 };
    case "decimal":
    case "numeric":
      return { kind: "decimal", ...(column.precision === null ? {} : { precision: Number(column.precision), scale: Number(column.scale ?? 0) }) };
    case "float":
      return { kind: "float", bytes: 4 };
    case "double":
    case "real":
      return { kind: "float", bytes: 8 };
    case "char":
    case "varchar":
      return column.maxLength === null ? { kind: "text" } : { kind: "text", maxLength: Number(column.maxLength) };
    case "json":
      return { kind: "json" };
    case "uuid":
      return { kind: "uuid" };
    case "binary":
    case "varbinary":
    case "tinyblob":
    case "blob":
    case "mediumblob":
    case "longblob":
    case "bit":
    case "geometry":
      return { kind: "bytes" };
    case "date":
      return { kind: "date" };
    case "time":
      return { kind: "time", ...precisionOf(column.datetimePrecision) };
    case "datetime":
      return { kind: "timestamp", withZone: false, ...precisionOf(column.datetimePrecision) };
    case "timestamp":
      // TIMESTAMP stores an instant (UTC inside, shown in the session time zone).
      return { kind: "timestamp", withZone: true, ...precisionOf(column.datetimePrecision) };
    default:
      return { kind: "text" };
  }
}

function precisionOf(value: number | null): { precision?: number } {
  return value === null ? {} : { precision: Number(value) };
}

/**
 * The column type for a portable type. Faithful where MySQL/MariaDB has the type; where
 * it has not, a type that keeps every value plus a comment with the portable type:
 * a zoned timestamp is DATETIME(p) holding the instant in the session time zone (UTC by
 * default), a decimal wider than DECIMAL(65,30) or unconstrained is LONGTEXT (DECIMAL(65,30)
 * would round it), a uuid before MariaDB 10.7 is CHAR(36). A key column gets an indexable
 * type within `keyBytes` (its share of InnoDB's 3,072-byte key): VARCHAR or VARBINARY.
 */
export function mysqlColumnType(type: PortableType, flavor: MysqlFlavor, keyBytes?: number): MysqlColumnDefinition {
  const commented = (native: string): MysqlColumnDefinition => ({ type: native, comment: portableTypeComment(type) });
  const isKey = keyBytes !== undefined;
  const keyChars = Math.floor((keyBytes ?? MAX_KEY_BYTES) / UTF8MB4_BYTES);
  switch (type.kind) {
    case "boolean":
      return { type: "TINYINT(1)" };
    case "integer":
      return { type: type.bytes === 2 ? "SMALLINT" : type.bytes === 4 ? "INT" : "BIGINT" };
    case "float":
      return { type: type.bytes === 4 ? "FLOAT" : "DOUBLE" };
    case "decimal": {
      const { precision, scale = 0 } = type;
      if (precision !== undefined && precision >= 1 && precision <= MAX_DECIMAL_PRECISION && scale <= MAX_DECIMAL_SCALE && scale <= precision) {
        return { type: `DECIMAL(${precision},${scale})` };
      }
      return commented(isKey ? `VARCHAR(${keyChars})` : "LONGTEXT");
    }
    case "text": {
      const length = type.maxLength;
      const limit = isKey ? keyChars : MAX_VARCHAR;
      if (length !== undefined && length >= 1 && length <= limit) return { type: `VARCHAR(${length})` };
      return isKey ? commented(`VARCHAR(${keyChars})`) : length === undefined ? { type: "LONGTEXT" } : commented("LONGTEXT");
    }
    case "bytes":
      return isKey ? commented(`VARBINARY(${keyBytes})`) : { type: "LONGBLOB" };
    case "json":
      return isKey ? commented(`VARCHAR(${keyChars})`) : { type: "JSON" };
    case "uuid":
      return flavor.uuidType ? { type: "UUID" } : commented("CHAR(36)");
    case "date":
      return { type: "DATE" };
    case "time":
      return { type: `TIME(${fraction(type.precision)})` };
    case "timestamp":
      return type.withZone ? commented(`DATETIME(${fraction(type.precision)})`) : { type: `DATETIME(${fraction(type.precision)})` };
  }
}

/** Fraction digits MySQL can keep (0–6); 6 when the source did not say. */
function fraction(precision: number | undefined): number {
  return precision === undefined ? 6 : Math.min(6, Math.max(0, precision));
}

/** `COMMENT '…'` with quotes and backslashes escaped. */
export function commentClause(comment: string | undefined): string {
  return comment === undefined ? "" : ` COMMENT '${comment.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}
