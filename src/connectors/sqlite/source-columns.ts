import type { Message } from "../../core/message.js";
import type { PortableKind } from "../record-schema.js";
import { isSqlIdentifier, parseTableName, quoteIdentifier } from "../shared/sql-identifier.js";
import type { SqliteHandle } from "./database.js";
import type { SqliteSourceOptions } from "./schema.js";
import { ROWID_ALIAS } from "./source-query.js";
import { portableFromSqlite, sqliteAffinity } from "./type-mapping.js";

/** A column a source reads, with its declared type. */
export interface SqliteSourceColumn {
  name: string;
  /** Declared type as written in CREATE TABLE ("" when none). */
  declared: string;
  notNull: boolean;
  /** Position in the PRIMARY KEY (1-based), 0 when not part of it. */
  pk: number;
}

interface TableInfoRow {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}

const DESCRIBE_VIEW = "junction_describe";

export interface SqliteSourceColumns {
  columns: SqliteSourceColumn[];
  /** The table's PRIMARY KEY columns in key order (empty for a query). */
  primaryKey: string[];
}

/**
 * The columns a source reads, in table order: PRAGMA table_info for a table (restricted
 * to columns, key and cursor when columns is set); for a query, the columns of a
 * temporary view over it, which carry the declared types of the table columns they come
 * from. Undefined when SQLite cannot tell (the query is then read as it is).
 */
export function readSourceColumns(db: SqliteHandle, options: SqliteSourceOptions): SqliteSourceColumns | undefined {
  let rows: TableInfoRow[];
  if (options.table !== undefined) {
    const table = parseTableName(options.table);
    const schema = table.schema === undefined ? "" : `${quoteIdentifier(table.schema, "schema")}.`;
    rows = db.prepare(`PRAGMA ${schema}table_info(${quoteIdentifier(table.table, "table")})`).all() as unknown as TableInfoRow[];
  } else {
    try {
      db.exec(`CREATE TEMP VIEW "${DESCRIBE_VIEW}" AS ${(options.query as string).trim()}`);
      try {
        rows = db.prepare(`PRAGMA temp.table_info("${DESCRIBE_VIEW}")`).all() as unknown as TableInfoRow[];
      } finally {
        db.exec(`DROP VIEW temp."${DESCRIBE_VIEW}"`);
      }
    } catch {
      return undefined;
    }
  }
  if (rows.length === 0) return undefined;
  const wanted = options.columns === undefined ? undefined : new Set([...options.columns, options.key, options.cursor].filter((name): name is string => name !== undefined).map((name) => name.toLowerCase()));
  const columns = rows
    .filter((row) => wanted === undefined || wanted.has(row.name.toLowerCase()))
    .map((row) => ({ name: row.name, declared: row.type ?? "", notNull: Number(row.notnull) === 1, pk: Number(row.pk) }));
  const primaryKey = rows.filter((row) => Number(row.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk)).map((row) => row.name);
  return { columns, primaryKey };
}

/** Beyond ±(2^53 - 1) a JavaScript number is not exact. */
const SAFE = "9007199254740991";

type Row = Record<string, unknown>;

/**
 * Reads rows exactly: integers beyond 2^53 are selected as text (the drivers would round
 * them or throw), and payload values follow the declared types: BOOLEAN 0/1 → false/true,
 * JSON text → parsed, BLOBs → base64 (as the other database sources emit bytes).
 */
export class SqliteRowReader {
  /** The select list replacing `*`. */
  readonly select: string;
  readonly #columns: ReadonlyArray<{ name: string; alias: string | undefined; kind: PortableKind }>;

  constructor(columns: readonly SqliteSourceColumn[]) {
    this.#columns = columns.map((column, index) => ({
      name: column.name,
      // Any column whose affinity lets it hold an integer may hold one beyond 2^53.
      alias: mayHoldInteger(column.declared) ? `__junction_value_${index}` : undefined,
      kind: portableFromSqlite(column.declared).kind,
    }));
    this.select = this.#columns
      .map(({ name, alias }) => {
        const quoted = quoteIdentifier(name);
        if (alias === undefined) return quoted;
        // A distinct alias: ORDER BY "name" must still mean the column, not this expression.
        return `CASE WHEN typeof(${quoted}) = 'integer' AND (${quoted} > ${SAFE} OR ${quoted} < -${SAFE}) THEN CAST(${quoted} AS TEXT) ELSE ${quoted} END AS "${alias}"`;
      })
      .join(", ");
  }

  /** A result row with the columns' own names again, in column order (the rowid alias kept for paging). */
  restore(row: Row): Row {
    const restored: Row = {};
    if (ROWID_ALIAS in row) restored[ROWID_ALIAS] = row[ROWID_ALIAS];
    for (const { name, alias } of this.#columns) restored[name] = row[alias ?? name];
    return restored;
  }

  /** The message with its payload values decoded by declared type; the position (raw values) is left as read. */
  decode(message: Message<Row>): Message<Row> {
    const payload: Row = {};
    for (const { name, kind } of this.#columns) payload[name] = decodeValue(message.payload[name], kind);
    return { ...message, payload };
  }
}

/**
 * A reader for the columns read, or undefined when they are unknown or cannot all be named
 * in a select list (a query column such as count(*), or a duplicate name): such rows are read
 * with `*`, as they come.
 */
export function rowReaderFor(read: SqliteSourceColumns | undefined): SqliteRowReader | undefined {
  if (read === undefined) return undefined;
  const names = read.columns.map((column) => column.name.toLowerCase());
  if (!read.columns.every((column) => isSqlIdentifier(column.name)) || new Set(names).size !== names.length) return undefined;
  return new SqliteRowReader(read.columns);
}

function mayHoldInteger(declared: string): boolean {
  const affinity = sqliteAffinity(declared);
  return affinity !== "TEXT" && affinity !== "REAL";
}

function decodeValue(value: unknown, kind: PortableKind): unknown {
  if (value === null || value === undefined) return null;
  // better-sqlite3 returns BLOBs as Buffer, node:sqlite as a plain Uint8Array.
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (kind === "boolean" && (value === 0 || value === 1)) return value === 1;
  if (kind === "json" && typeof value === "string") {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}
