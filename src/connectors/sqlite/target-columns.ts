import { configError } from "../../core/errors.js";
import type { Message } from "../../core/message.js";
import type { RecordSchema } from "../record-schema.js";
import { SchemaChangeGuard, dropFields, sampleValue } from "../shared/schema-change.js";
import type { TargetColumnsOptions } from "../shared/schema-change.js";
import type { SqliteHandle } from "./database.js";
import type { SqliteValue } from "./row-values.js";
import { createTableSql } from "./table-creation.js";
import { addTargetColumn, createTargetTable, readTargetColumns } from "./target-table.js";
import type { SqliteTargetColumn } from "./target-table.js";
import { portableFromSqlite } from "./type-mapping.js";

export type SqliteTargetColumnsOptions = TargetColumnsOptions;

/** A row as the sink holds it: field names and bindable values, in the same order. */
export interface SqliteFieldRow {
  index: number;
  columns: string[];
  values: SqliteValue[];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The target's side of an sqlite sink's schema: creates the table (from the source's
 * declared schema, or from the first batch), applies on_schema_change at the start of a
 * run and to each batch, and converts values by the declared column types: JSON columns
 * get JSON of the value (a string too), BLOB columns get the bytes of base64 text.
 */
export class SqliteTargetColumns {
  readonly #options: SqliteTargetColumnsOptions;
  readonly #guard: SchemaChangeGuard;
  #schema: RecordSchema | undefined;
  #db: SqliteHandle | undefined;
  /** The table the cached columns belong to ("table" or "schema.table"). */
  #table: string | undefined;
  #columns: Map<string, SqliteTargetColumn> | undefined;

  constructor(options: SqliteTargetColumnsOptions) {
    this.#options = options;
    this.#guard = new SchemaChangeGuard({
      policy: options.policy,
      what: options.what,
      logger: options.logger,
      addColumn: async (name, type) => addTargetColumn(this.#db as SqliteHandle, this.#table as string, name, type),
    });
  }

  /** Start of a run: create the missing table from `schema`, or check the table against it. */
  async begin(db: SqliteHandle, table: string, schema: RecordSchema | undefined): Promise<void> {
    this.#schema = schema;
    this.#guard.startRun(schema);
    this.#db = db;
    this.#table = table;
    this.#columns = undefined;
    let columns = readTargetColumns(db, table);
    if (columns.size === 0) {
      if (!this.#options.createTable) throw this.#noTable(table);
      // Without declared columns the table is created from the first batch.
      if (schema === undefined) return;
      createTargetTable(db, table, schema, this.#options.keys, this.#options.only);
      columns = readTargetColumns(db, table);
    }
    const known = columns;
    const only = lowerCased(this.#options.only);
    if (await this.#guard.reconcileSchema((name) => known.has(name.toLowerCase()), (name) => only === undefined || only.has(name.toLowerCase()))) {
      columns = readTargetColumns(db, table);
    }
    this.#columns = columns;
  }

  /**
   * Readies a batch: creates the table when asked, adds, drops (rows left with no field
   * are removed and count as written) or refuses fields the table lacks, and converts
   * values for JSON and BLOB columns from the original payloads.
   */
  async prepare(db: SqliteHandle, table: string, rows: SqliteFieldRow[], messages: readonly Message[]): Promise<void> {
    let columns = this.#table === table ? this.#columns : undefined;
    this.#db = db;
    this.#table = table;
    columns ??= readTargetColumns(db, table);
    if (columns.size === 0 && this.#options.createTable) {
      if (this.#schema !== undefined) createTargetTable(db, table, this.#schema, this.#options.keys, this.#options.only);
      else db.exec(createTableSql(quoted(table), rows, this.#options.keys));
      columns = readTargetColumns(db, table);
    }
    if (columns.size === 0) throw this.#noTable(table);
    const known = columns;
    const unknown = new Set<string>();
    for (const row of rows) for (const name of row.columns) if (!known.has(name.toLowerCase())) unknown.add(name);
    if (unknown.size > 0) {
      const valueOf = (row: SqliteFieldRow, field: string): unknown => fieldOf(messages[row.index], field);
      const outcome = await this.#guard.reconcileFields(unknown, (name) => known.has(name.toLowerCase()), (name) => sampleValue(rows, valueOf, name));
      if (outcome.added) columns = readTargetColumns(db, table);
      if (outcome.dropped.size > 0) dropFields(rows, outcome.dropped);
    }
    this.#columns = columns;
    convertValues(rows, columns, messages);
  }

  /** Read the columns again before the next write. */
  forget(): void {
    this.#columns = undefined;
  }

  #noTable(table: string): Error {
    return configError(`${this.#options.what}: table ${table} does not exist; create it first or set create_table: true`, { code: "sqlite.no_such_table" });
  }
}

function quoted(table: string): string {
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

function lowerCased(names: ReadonlySet<string> | undefined): Set<string> | undefined {
  return names === undefined ? undefined : new Set([...names].map((name) => name.toLowerCase()));
}

function fieldOf(message: Message | undefined, field: string): unknown {
  return (message?.payload as Record<string, unknown> | undefined)?.[field];
}


/** JSON columns: JSON of the original value; BLOB columns: base64 text decoded to bytes. */
function convertValues(rows: readonly SqliteFieldRow[], columns: ReadonlyMap<string, SqliteTargetColumn>, messages: readonly Message[]): void {
  const kinds = new Map<string, "json" | "bytes">();
  for (const [name, column] of columns) {
    const kind = portableFromSqlite(column.declared).kind;
    if (kind === "json" || kind === "bytes") kinds.set(name, kind);
  }
  if (kinds.size === 0) return;
  for (const row of rows) {
    row.columns.forEach((field, at) => {
      const kind = kinds.get(field.toLowerCase());
      if (kind === undefined || row.values[at] === null) return;
      const original = fieldOf(messages[row.index], field);
      if (kind === "json") row.values[at] = JSON.stringify(original, (_name, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner));
      else if (typeof original === "string" && BASE64.test(original)) row.values[at] = Buffer.from(original, "base64");
    });
  }
}
