import type { FieldPacket } from "mysql2/promise";
import type { MysqlParam, MysqlRow } from "./database.js";
import { padFraction, serverToIso } from "./datetime-text.js";

// mysql2 column type codes of the date-time types (TIMESTAMP, DATETIME and their fractional forms).
const DATETIME_TYPES = new Set([7, 12, 17, 18]);

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
 * The payload of a (normalised) row: date-times as ISO-8601, binary as base64; DECIMAL and large
 * BIGINT are already exact strings and JSON already parsed (driver options).
 */
export function rowToPayload(row: MysqlRow, fields: readonly FieldPacket[], sessionOffset: string): MysqlRow {
  const payload: MysqlRow = {};
  for (const field of fields) {
    const value = row[field.name];
    if (Buffer.isBuffer(value)) payload[field.name] = value.toString("base64");
    else if (typeof value === "string" && isDateTime(field)) payload[field.name] = serverToIso(value, sessionOffset);
    else payload[field.name] = value;
  }
  return payload;
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
