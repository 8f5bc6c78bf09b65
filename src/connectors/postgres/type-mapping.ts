import type { PortableType } from "../record-schema.js";

/** A column type as the catalog knows it: pg_type.typname (a domain is described as its base type), typmod and typcategory. */
export interface PostgresTypeInfo {
  name: string;
  /** atttypmod / the field's dataTypeModifier; -1 when unconstrained. */
  typmod: number;
  /** typcategory: "A" for arrays. */
  category: string;
}

/** Largest precision numeric(p,s) and length varchar(n) accept. */
const MAX_NUMERIC_PRECISION = 1000;
const MAX_VARCHAR_LENGTH = 10_485_760;
/** Fractional second digits of PostgreSQL's time types without a typmod. */
const FULL_PRECISION = 6;

const SIMPLE: Record<string, PortableType> = {
  bool: { kind: "boolean" },
  int2: { kind: "integer", bytes: 2 },
  int4: { kind: "integer", bytes: 4 },
  int8: { kind: "integer", bytes: 8 },
  oid: { kind: "integer", bytes: 8 },
  float4: { kind: "float", bytes: 4 },
  float8: { kind: "float", bytes: 8 },
  text: { kind: "text" },
  citext: { kind: "text" },
  name: { kind: "text", maxLength: 63 },
  bytea: { kind: "bytes" },
  json: { kind: "json" },
  jsonb: { kind: "json" },
  uuid: { kind: "uuid" },
  date: { kind: "date" },
  // node-postgres parses these into objects.
  point: { kind: "json" },
  circle: { kind: "json" },
};

/**
 * The portable type of a PostgreSQL column. Arrays become json (node-postgres parses them
 * into arrays); enums, ranges, composites, intervals, network and other types become text,
 * which is how they are read.
 */
export function portableFromPostgres(type: PostgresTypeInfo): PortableType {
  const simple = SIMPLE[type.name];
  if (simple !== undefined) return { ...simple };
  const modifier = type.typmod;
  switch (type.name) {
    case "numeric":
      return numericType(modifier);
    case "varchar":
    case "bpchar":
      return modifier > 4 ? { kind: "text", maxLength: modifier - 4 } : { kind: "text" };
    case "time":
      return modifier >= 0 ? { kind: "time", precision: modifier } : { kind: "time" };
    case "timestamp":
    case "timestamptz":
      return { kind: "timestamp", withZone: type.name === "timestamptz", ...(modifier >= 0 ? { precision: modifier } : {}) };
  }
  if (type.category === "A") return { kind: "json" };
  return { kind: "text" };
}

/** numeric's typmod: ((precision << 16) | scale) + 4, the scale an 11-bit signed number since PostgreSQL 15. */
function numericType(typmod: number): PortableType {
  if (typmod < 4) return { kind: "decimal" };
  const bits = typmod - 4;
  const precision = (bits >> 16) & 0xffff;
  const scale = ((bits & 0x7ff) ^ 1024) - 1024;
  // numeric(5,-2) rounds to hundreds: its values are whole numbers of up to 7 digits.
  if (scale < 0) return { kind: "decimal", precision: precision - scale, scale: 0 };
  return { kind: "decimal", precision, scale };
}

/** The PostgreSQL type a column of `type` is created with (the inverse of `portableFromPostgres`). */
export function postgresColumnType(type: PortableType): string {
  switch (type.kind) {
    case "boolean":
      return "boolean";
    case "integer":
      return type.bytes === 2 ? "smallint" : type.bytes === 4 ? "integer" : "bigint";
    case "float":
      return type.bytes === 4 ? "real" : "double precision";
    case "decimal": {
      const { precision, scale = 0 } = type;
      if (precision === undefined || precision < 1 || precision > MAX_NUMERIC_PRECISION || scale > precision) return "numeric";
      return `numeric(${precision},${scale})`;
    }
    case "text":
      return type.maxLength !== undefined && type.maxLength >= 1 && type.maxLength <= MAX_VARCHAR_LENGTH ? `varchar(${type.maxLength})` : "text";
    case "bytes":
      return "bytea";
    case "json":
      return "jsonb";
    case "uuid":
      return "uuid";
    case "date":
      return "date";
    case "time":
      return `time${fraction(type.precision)}`;
    case "timestamp":
      return `${type.withZone ? "timestamptz" : "timestamp"}${fraction(type.precision)}`;
  }
}

/** "(3)" for fewer digits than PostgreSQL keeps anyway; "" for 6 or unset, so `timestamp` stays `timestamp`. */
function fraction(precision: number | undefined): string {
  return precision === undefined || precision >= FULL_PRECISION ? "" : `(${Math.max(0, precision)})`;
}
