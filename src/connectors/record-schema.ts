/**
 * The engine-neutral description of a table's columns. A database source reports the
 * declared types of what it reads; a database target maps them to its own types when it
 * creates the table or adds a column, so numeric precision, time zones, json and bytes
 * survive a sync between different engines.
 */
export type PortableType =
  | { kind: "boolean" }
  /** Whole numbers of 2, 4 or 8 bytes (smallint, integer, bigint). */
  | { kind: "integer"; bytes: 2 | 4 | 8 }
  /** Exact decimal; precision/scale absent = unconstrained (PostgreSQL `numeric`). */
  | { kind: "decimal"; precision?: number; scale?: number }
  | { kind: "float"; bytes: 4 | 8 }
  /** Character data; maxLength absent = unbounded text. */
  | { kind: "text"; maxLength?: number }
  | { kind: "bytes" }
  | { kind: "json" }
  | { kind: "uuid" }
  | { kind: "date" }
  /** Time of day without a date. */
  | { kind: "time"; precision?: number }
  /** withZone: an instant (timestamptz); otherwise a wall-clock date and time. precision = fractional second digits. */
  | { kind: "timestamp"; withZone: boolean; precision?: number };

export type PortableKind = PortableType["kind"];

export interface ColumnSchema {
  name: string;
  type: PortableType;
  nullable: boolean;
  /** The source's own spelling of the type (e.g. "numeric(12,2)"), for messages and docs. */
  declared?: string;
}

export interface RecordSchema {
  /** Columns in the source's order. */
  columns: ColumnSchema[];
  /** Columns of the unique key (may be empty when the source has none). */
  key: string[];
}
