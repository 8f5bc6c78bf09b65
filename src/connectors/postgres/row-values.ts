import { permanentError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { identifierProblem } from "../shared/sql-identifier.js";
import { FieldShapes, RowFields } from "./row-fields.js";

export type RowConversion = { ok: true; fields: Map<string, unknown> } | { ok: false; error: JunctionError };

const shapes = new FieldShapes();

/** Field names already checked: every row of a table repeats the same few, so each is checked once (bounded). */
const checkedNames = new Set<string>();

/** The payload's fields to write (restricted to `only` when set); the payload must be a plain object. */
export function payloadFields(payload: unknown, only: ReadonlySet<string> | undefined): RowConversion {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || payload instanceof Uint8Array) {
    return {
      ok: false,
      error: permanentError(`payload must be a JSON object to become a row, got ${describeType(payload)}; map it to an object with a transform`, { code: "postgres.bad_payload" }),
    };
  }
  // This runs once per row written: no [name, value] pair per field (Object.entries) and no
  // Map per row; the names array is compacted in place and the shape is shared (RowFields).
  const record = payload as Record<string, unknown>;
  const names = Object.keys(record);
  const values = new Array<unknown>(names.length);
  let count = 0;
  for (let at = 0; at < names.length; at++) {
    const name = names[at] as string;
    if (only !== undefined && !only.has(name)) continue;
    const value = record[name];
    if (value === undefined) continue;
    if (!checkedNames.has(name)) {
      const problem = identifierProblem(name, "payload field");
      if (problem) return { ok: false, error: permanentError(`${problem}; rename it with a transform (select/rename or map)`, { code: "postgres.bad_payload" }) };
      if (checkedNames.size >= 4096) checkedNames.clear();
      checkedNames.add(name);
    }
    names[count] = name;
    values[count++] = value;
  }
  if (count === 0) return { ok: false, error: permanentError("payload has no field to write; check the mapping and the columns option", { code: "postgres.bad_payload" }) };
  values.length = count;
  return { ok: true, fields: new RowFields(shapes.of(names, count), values) };
}

/** One string per key value (the texts of its columns), to find duplicate keys in a batch: the text itself for a one-column key. */
export function keyIdentity(keyText: ReadonlyArray<string | null>): string {
  return keyText.length === 1 ? String(keyText[0]) : JSON.stringify(keyText);
}

/** How a JavaScript value becomes the text PostgreSQL parses for a column of a given type. */
export type ColumnKind = "json" | "bytea" | "array" | "other";

export function columnKind(sqlType: string): ColumnKind {
  if (sqlType === "json" || sqlType === "jsonb") return "json";
  if (sqlType === "bytea") return "bytea";
  if (sqlType.endsWith("[]")) return "array";
  return "other";
}

/**
 * The text form of `value` for a column of `kind`, or null for SQL NULL:
 * json columns take JSON of any value (a string becomes a JSON string); bytea takes a
 * Buffer or a base64 string (what the source emits); other columns take strings as
 * written, numbers and booleans as text, Dates as ISO, objects and arrays as JSON text.
 */
export function toPostgresText(value: unknown, kind: ColumnKind): string | null {
  if (value === null || value === undefined) return null;
  if (kind === "json") return jsonText(value);
  if (kind === "bytea") {
    if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
    if (typeof value === "string") return `\\x${Buffer.from(value, "base64").toString("hex")}`;
  }
  if (kind === "array" && Array.isArray(value)) return arrayLiteral(value);
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    case "object":
      if (value instanceof Date) return value.toISOString();
      if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
      return JSON.stringify(value);
    default:
      return String(value);
  }
}

/**
 * A PostgreSQL array literal (`{1,NULL,"a b"}`) of a JavaScript array, nested arrays as
 * further dimensions: what node-postgres parses an array column into, written back.
 * Every non-null element is quoted (backslash and double quote escaped), which the array
 * input function accepts for any element type.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  let text = "{";
  for (let at = 0; at < values.length; at++) {
    if (at > 0) text += ",";
    const value = values[at];
    if (Array.isArray(value)) text += arrayLiteral(value);
    else {
      const element = toPostgresText(value, "other");
      text += element === null ? "NULL" : `"${element.replace(/[\\"]/g, "\\$&")}"`;
    }
  }
  return `${text}}`;
}

/**
 * JSON text with bigints as strings. Plain JSON.stringify first: a replacer function is
 * called back for every value and makes it several times slower, and only bigints need it
 * (they make JSON.stringify throw a TypeError, and then the replacer handles them).
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return JSON.stringify(value, bigintAsString);
  }
}

function bigintAsString(_name: string, inner: unknown): unknown {
  return typeof inner === "bigint" ? inner.toString() : inner;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "binary data";
  return `a ${typeof value}`;
}
