import { permanentError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { identifierProblem } from "../shared/sql-identifier.js";

export type SqliteValue = string | number | bigint | Buffer | null;

export type RowConversion = { ok: true; columns: string[]; values: SqliteValue[] } | { ok: false; error: JunctionError };

/**
 * Turns a payload into column names and bindable values. The payload must be a plain
 * object; nested objects and arrays become JSON text, booleans 1/0, dates ISO text.
 */
export function payloadToRow(payload: unknown, only: ReadonlySet<string> | undefined): RowConversion {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    return {
      ok: false,
      error: permanentError(`payload must be a JSON object to become a row, got ${describeType(payload)}; map it to an object with a transform`, {
        code: "sqlite.bad_payload",
      }),
    };
  }
  const columns: string[] = [];
  const values: SqliteValue[] = [];
  for (const [name, value] of Object.entries(payload)) {
    if (only !== undefined && !only.has(name)) continue;
    if (value === undefined) continue;
    const problem = identifierProblem(name, "payload field");
    if (problem) return { ok: false, error: permanentError(`${problem}; rename it with a transform (select/rename or map)`, { code: "sqlite.bad_payload" }) };
    columns.push(name);
    values.push(toSqliteValue(value));
  }
  if (columns.length === 0) {
    return { ok: false, error: permanentError("payload has no field to write; check the mapping and the columns option", { code: "sqlite.bad_payload" }) };
  }
  return { ok: true, columns, values };
}

export function toSqliteValue(value: unknown): SqliteValue {
  switch (typeof value) {
    case "string":
    case "number":
    case "bigint":
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "undefined":
      return null;
    case "object":
      if (value === null) return null;
      if (Buffer.isBuffer(value)) return value;
      if (value instanceof Uint8Array) return Buffer.from(value);
      if (value instanceof Date) return value.toISOString();
      return JSON.stringify(value);
    default:
      return String(value);
  }
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "binary data";
  return `a ${typeof value}`;
}
