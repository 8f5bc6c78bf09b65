import type { FieldPacket } from "mysql2/promise";
import type { MysqlParam, MysqlRow } from "./database.js";
import { padFraction, serverToIso } from "./datetime-text.js";

// mysql2 column type codes of the date-time types (TIMESTAMP, DATETIME and their fractional forms).
const DATETIME_TYPES = new Set([7, 12, 17, 18]);
const TINY = 1;
const FLOAT = 4;
const UNSIGNED_FLAG = 32;

/** A checkpoint-safe (JSON) form of a key or cursor value; binary values are wrapped. */
export type PositionValue = string | number | null | { base64: string };

/** Date-time texts padded to their column's fraction digits, in place; returns the row. */
export function normalizeRow(row: MysqlRow, fields: readonly FieldPacket[]): MysqlRow {
  for (const field of fields) {
    const value = row[field.name];
    if (typeof value === "string" && isDateTime(field)) row[field.name] = padFraction(value, field.decimals ?? 0);
  }
  return row;
}

function isDateTime(field: FieldPacket): boolean {
  return field.columnType !== undefined && DATETIME_TYPES.has(field.columnType);
}

/**
 * The payload of a (normalised) row: date-times as ISO-8601, binary as base64, TINYINT(1)
 * 0/1 as false/true (MySQL's BOOLEAN), FLOAT as the shortest number that is the same
 * 4-byte float (the driver widens 0.1 to 0.10000000149011612); DECIMAL and large BIGINT
 * are already exact strings and JSON already parsed (driver options).
 */
export function rowToPayload(row: MysqlRow, fields: readonly FieldPacket[], sessionOffset: string): MysqlRow {
  const payload: MysqlRow = {};
  for (const field of fields) {
    const value = row[field.name];
    if (Buffer.isBuffer(value)) payload[field.name] = value.toString("base64");
    else if (typeof value === "string" && isDateTime(field)) payload[field.name] = serverToIso(value, sessionOffset);
    else if (typeof value === "number" && isBoolean(field) && (value === 0 || value === 1)) payload[field.name] = value === 1;
    else if (typeof value === "number" && field.columnType === FLOAT) payload[field.name] = shortestFloat32(value);
    else payload[field.name] = value;
  }
  return payload;
}

function isBoolean(field: FieldPacket): boolean {
  return field.columnType === TINY && field.columnLength === 1 && (Number(field.flags ?? 0) & UNSIGNED_FLAG) === 0;
}

/** The shortest decimal that rounds to the same 4-byte float as `value`. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  const single = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}

/** The raw value as the checkpoint keeps it: exactly what the server returned, so binding it back compares equal. */
export function toPositionValue(value: unknown): PositionValue {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { base64: value.toString("base64") };
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value);
}

export function fromPositionValue(value: PositionValue): MysqlParam {
  if (value !== null && typeof value === "object") return Buffer.from(value.base64, "base64");
  return value;
}

export function isPositionValue(value: unknown): value is PositionValue {
  if (value === null || typeof value === "string" || typeof value === "number") return true;
  return typeof value === "object" && typeof (value as { base64?: unknown }).base64 === "string";
}
