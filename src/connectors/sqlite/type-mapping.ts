import type { PortableType } from "../record-schema.js";

/**
 * SQLite stores values by storage class and converts them by the column's affinity, which
 * comes from words in the declared type: INT → INTEGER; CHAR, CLOB, TEXT → TEXT; BLOB or
 * none → BLOB; REAL, FLOA, DOUB → REAL; anything else → NUMERIC. NUMERIC affinity turns
 * the text "12.10" into the number 12.1, so exact decimals and date-times are created with
 * declared types ending in _TEXT (TEXT affinity: stored as written) that still name the
 * portable type: DECIMAL_TEXT(12,2), TIMESTAMPTZ_TEXT(6), UUID_TEXT, JSON_TEXT.
 */
export type SqliteAffinity = "INTEGER" | "TEXT" | "BLOB" | "REAL" | "NUMERIC";

export function sqliteAffinity(declared: string): SqliteAffinity {
  const type = declared.toUpperCase();
  if (type.includes("INT")) return "INTEGER";
  if (type.includes("CHAR") || type.includes("CLOB") || type.includes("TEXT")) return "TEXT";
  if (type.includes("BLOB") || type.trim() === "") return "BLOB";
  if (type.includes("REAL") || type.includes("FLOA") || type.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

const DECLARED = /^\s*([A-Z_][A-Z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/;

const BY_NAME: Record<string, (first?: number, second?: number) => PortableType> = {
  BOOLEAN: () => ({ kind: "boolean" }),
  BOOL: () => ({ kind: "boolean" }),
  SMALLINT: () => ({ kind: "integer", bytes: 2 }),
  TINYINT: () => ({ kind: "integer", bytes: 2 }),
  INT2: () => ({ kind: "integer", bytes: 2 }),
  INT: () => ({ kind: "integer", bytes: 4 }),
  INT4: () => ({ kind: "integer", bytes: 4 }),
  MEDIUMINT: () => ({ kind: "integer", bytes: 4 }),
  // SQLite's own INTEGER is 64-bit.
  INTEGER: () => ({ kind: "integer", bytes: 8 }),
  BIGINT: () => ({ kind: "integer", bytes: 8 }),
  INT8: () => ({ kind: "integer", bytes: 8 }),
  DECIMAL_TEXT: decimal,
  DECIMAL: decimal,
  NUMERIC: decimal,
  FLOAT: () => ({ kind: "float", bytes: 4 }),
  FLOAT4: () => ({ kind: "float", bytes: 4 }),
  REAL: () => ({ kind: "float", bytes: 8 }),
  DOUBLE: () => ({ kind: "float", bytes: 8 }),
  "DOUBLE PRECISION": () => ({ kind: "float", bytes: 8 }),
  FLOAT8: () => ({ kind: "float", bytes: 8 }),
  TEXT: () => ({ kind: "text" }),
  CLOB: () => ({ kind: "text" }),
  VARCHAR: text,
  "CHARACTER VARYING": text,
  NVARCHAR: text,
  CHAR: text,
  CHARACTER: text,
  NCHAR: text,
  BLOB: () => ({ kind: "bytes" }),
  BYTEA: () => ({ kind: "bytes" }),
  JSON: () => ({ kind: "json" }),
  JSONB: () => ({ kind: "json" }),
  JSON_TEXT: () => ({ kind: "json" }),
  UUID: () => ({ kind: "uuid" }),
  UUID_TEXT: () => ({ kind: "uuid" }),
  DATE: () => ({ kind: "date" }),
  DATE_TEXT: () => ({ kind: "date" }),
  TIME: (p) => ({ kind: "time", ...(p === undefined ? {} : { precision: p }) }),
  TIME_TEXT: (p) => ({ kind: "time", ...(p === undefined ? {} : { precision: p }) }),
  DATETIME: (p) => timestamp(false, p),
  TIMESTAMP: (p) => timestamp(false, p),
  TIMESTAMP_TEXT: (p) => timestamp(false, p),
  TIMESTAMPTZ: (p) => timestamp(true, p),
  TIMESTAMPTZ_TEXT: (p) => timestamp(true, p),
  "TIMESTAMP WITH TIME ZONE": (p) => timestamp(true, p),
};

function decimal(precision?: number, scale?: number): PortableType {
  return precision === undefined ? { kind: "decimal" } : { kind: "decimal", precision, scale: scale ?? 0 };
}

function text(length?: number): PortableType {
  return length === undefined ? { kind: "text" } : { kind: "text", maxLength: length };
}

function timestamp(withZone: boolean, precision?: number): PortableType {
  return { kind: "timestamp", withZone, ...(precision === undefined ? {} : { precision }) };
}

/** The portable type of a declared column type; a name it does not know falls back to its affinity (text for NUMERIC and none). */
export function portableFromSqlite(declared: string): PortableType {
  const match = DECLARED.exec(declared.toUpperCase());
  if (match !== null) {
    const byName = BY_NAME[(match[1] as string).replace(/\s+/g, " ")];
    if (byName !== undefined) return byName(match[2] === undefined ? undefined : Number(match[2]), match[3] === undefined ? undefined : Number(match[3]));
  }
  switch (sqliteAffinity(declared)) {
    case "INTEGER":
      return { kind: "integer", bytes: 8 };
    case "REAL":
      return { kind: "float", bytes: 8 };
    case "BLOB":
      return declared.trim() === "" ? { kind: "text" } : { kind: "bytes" };
    default:
      return { kind: "text" };
  }
}

/** The declared type a column of `type` is created with; `portableFromSqlite` reads it back as the same type. */
export function sqliteColumnType(type: PortableType): string {
  switch (type.kind) {
    case "boolean":
      return "BOOLEAN";
    case "integer":
      return type.bytes === 2 ? "SMALLINT" : type.bytes === 4 ? "INT" : "BIGINT";
    case "float":
      return type.bytes === 4 ? "FLOAT" : "DOUBLE";
    case "decimal":
      return `DECIMAL_TEXT${type.precision === undefined ? "" : `(${type.precision},${type.scale ?? 0})`}`;
    case "text":
      return type.maxLength === undefined ? "TEXT" : `VARCHAR(${type.maxLength})`;
    case "bytes":
      return "BLOB";
    case "json":
      return "JSON_TEXT";
    case "uuid":
      return "UUID_TEXT";
    case "date":
      return "DATE_TEXT";
    case "time":
      return `TIME_TEXT${precision(type.precision)}`;
    case "timestamp":
      return `${type.withZone ? "TIMESTAMPTZ_TEXT" : "TIMESTAMP_TEXT"}${precision(type.precision)}`;
  }
}

function precision(value: number | undefined): string {
  return value === undefined ? "" : `(${value})`;
}
