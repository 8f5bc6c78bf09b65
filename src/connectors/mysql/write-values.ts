import { permanentError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { identifierProblem } from "../shared/sql-identifier.js";
import type { MysqlParam } from "./database.js";
import { isoToServer } from "./datetime-text.js";

/** How a target column wants its values; columns not listed take values as they are. */
export type ColumnConversion = "json" | "binary" | "datetime";

export type PayloadFields = { ok: true; columns: string[]; values: unknown[] } | { ok: false; error: JunctionError };

const BINARY_TYPES = new Set(["binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"]);
const DATETIME_TYPES = new Set(["datetime", "timestamp"]);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The conversion for a column, from information_schema DATA_TYPE and whether a JSON_VALID check guards it (MariaDB's JSON). */
export function conversionOf(dataType: string, jsonChecked: boolean): ColumnConversion | undefined {
  const type = dataType.toLowerCase();
  if (type === "json" || jsonChecked) return "json";
  if (BINARY_TYPES.has(type)) return "binary";
  if (DATETIME_TYPES.has(type)) return "datetime";
  return undefined;
}

/** The payload's fields and values; it must be a plain object whose field names are plain identifiers. */
export function payloadFields(payload: unknown, only: ReadonlySet<string> | undefined): PayloadFields {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    return { ok: false, error: permanentError(`payload must be a JSON object to become a row, got ${describeType(payload)}; map it to an object with a transform`, { code: "mysql.bad_payload" }) };
  }
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(payload)) {
    if (only !== undefined && !only.has(name)) continue;
    if (value === undefined) continue;
    const problem = identifierProblem(name, "payload field");
    if (problem) return { ok: false, error: permanentError(`${problem}; rename it with a transform (select/rename or map)`, { code: "mysql.bad_payload" }) };
    columns.push(name);
    values.push(value);
  }
  if (columns.length === 0) return { ok: false, error: permanentError("payload has no field to write; check the mapping and the columns option", { code: "mysql.bad_payload" }) };
  return { ok: true, columns, values };
}

/** A bindable value for a column; throws a permanent JunctionError when the value cannot fit the column's kind. */
export function toParam(value: unknown, column: string, conversion: ColumnConversion | undefined, sessionOffset: string): MysqlParam {
  if (value === null || value === undefined) return null;
  if (conversion === "json") return JSON.stringify(value, (_name, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner));
  if (value instanceof Date) return toParam(value.toISOString(), column, conversion, sessionOffset);
  if (typeof value === "string") {
    if (conversion === "binary") {
      if (!BASE64.test(value)) {
        throw permanentError(`field ${column} goes to a binary column and must be base64 (as the mysql source emits binary values); got text that is not base64`, { code: "mysql.bad_payload" });
      }
      return Buffer.from(value, "base64");
    }
    if (conversion === "datetime") return isoToServer(value, sessionOffset) ?? value;
    return value;
  }
  if (typeof value === "number" || typeof value === "bigint" || Buffer.isBuffer(value)) return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Approximate bytes a value takes in an execute packet. */
export function paramBytes(value: MysqlParam): number {
  if (value === null) return 0;
  if (typeof value === "string") return Buffer.byteLength(value, "utf8") + 9;
  if (Buffer.isBuffer(value)) return value.length + 9;
  return 8;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (Buffer.isBuffer(value)) return "binary data";
  return `a ${typeof value}`;
}
