import { permanentError } from "../../core/errors.js";
import type { JunctionError } from "../../core/errors.js";
import { identifierProblem } from "../shared/sql-identifier.js";
import type { MysqlParam } from "./database.js";
import { isoToServer } from "./datetime-text.js";
import { utcIsoToServer } from "./utc-datetime-text.js";

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

/** Field names already checked: every row of a table repeats the same few, so each is checked once (bounded). */
const checkedNames = new Set<string>();

/** The payload's fields and values; it must be a plain object whose field names are plain identifiers. */
export function payloadFields(payload: unknown, only: ReadonlySet<string> | undefined): PayloadFields {
  if (payload === null || typeof payload !== "object" || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    return { ok: false, error: permanentError(`payload must be a JSON object to become a row, got ${describeType(payload)}; map it to an object with a transform`, { code: "mysql.bad_payload" }) };
  }
  // Once per row written: no [name, value] pair per field (Object.entries), names checked
  // once each, and the array of names compacted in place into the columns.
  const record = payload as Record<string, unknown>;
  const columns = Object.keys(record);
  const values = new Array<unknown>(columns.length);
  let count = 0;
  for (let at = 0; at < columns.length; at++) {
    const name = columns[at] as string;
    if (only !== undefined && !only.has(name)) continue;
    const value = record[name];
    if (value === undefined) continue;
    if (!checkedNames.has(name)) {
      const problem = identifierProblem(name, "payload field");
      if (problem) return { ok: false, error: permanentError(`${problem}; rename it with a transform (select/rename or map)`, { code: "mysql.bad_payload" }) };
      if (checkedNames.size >= 4096) checkedNames.clear();
      checkedNames.add(name);
    }
    columns[count] = name;
    values[count++] = value;
  }
  if (count === 0) return { ok: false, error: permanentError("payload has no field to write; check the mapping and the columns option", { code: "mysql.bad_payload" }) };
  columns.length = count;
  values.length = count;
  return { ok: true, columns, values };
}

/** A bindable value for a column; throws a permanent JunctionError when the value cannot fit the column's kind. */
export function toParam(value: unknown, column: string, conversion: ColumnConversion | undefined, sessionOffset: string): MysqlParam {
  if (value === null || value === undefined) return null;
  if (conversion === "json") return jsonText(value);
  if (value instanceof Date) return toParam(value.toISOString(), column, conversion, sessionOffset);
  if (typeof value === "string") {
    if (conversion === "binary") {
      if (!BASE64.test(value)) {
        throw permanentError(`field ${column} goes to a binary column and must be base64 (as the mysql source emits binary values); got text that is not base64`, { code: "mysql.bad_payload" });
      }
      return Buffer.from(value, "base64");
    }
    if (conversion === "datetime") return utcIsoToServer(value, sessionOffset) ?? isoToServer(value, sessionOffset) ?? value;
    return value;
  }
  if (typeof value === "number" || typeof value === "bigint" || Buffer.isBuffer(value)) return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
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
