import { permanentError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { identifierProblem } from "../shared/sql-identifier.js";

export type RowConversion = { ok: true; fields: Map<string, unknown> } | { ok: false; error: JunctionError };

/** The payload's fields to write (restricted to `only` when set); the payload must be a plain object. */
export function payloadFields(payload: unknown, only: ReadonlySet<string> | undefined): RowConversion {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || payload instanceof Uint8Array) {
    return {
      ok: false,
      error: permanentError(`payload must be a JSON object to become a row, got ${describeType(payload)}; map it to an object with a transform`, { code: "postgres.bad_payload" }),
    };
  }
  const fields = new Map<string, unknown>();
  for (const [name, value] of Object.entries(payload)) {
    if (only !== undefined && !only.has(name)) continue;
    if (value === undefined) continue;
    const problem = identifierProblem(name, "payload field");
    if (problem) return { ok: false, error: permanentError(`${problem}; rename it with a transform (select/rename or map)`, { code: "postgres.bad_payload" }) };
    fields.set(name, value);
  }
  if (fields.size === 0) return { ok: false, error: permanentError("payload has no field to write; check the mapping and the columns option", { code: "postgres.bad_payload" }) };
  return { ok: true, fields };
}

/** How a JavaScript value becomes the text PostgreSQL parses for a column of a given type. */
export type ColumnKind = "json" | "bytea" | "other";

export function columnKind(sqlType: string): ColumnKind {
  if (sqlType === "json" || sqlType === "jsonb") return "json";
  if (sqlType === "bytea") return "bytea";
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
  if (kind === "json") return JSON.stringify(value, (_name, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner));
  if (kind === "bytea") {
    if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString("hex")}`;
    if (typeof value === "string") return `\\x${Buffer.from(value, "base64").toString("hex")}`;
  }
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

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "binary data";
  return `a ${typeof value}`;
}
